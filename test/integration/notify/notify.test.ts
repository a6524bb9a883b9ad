/**
 * Every channel against a real local receiver: webhook (HMAC verified), Slack, Alertmanager (Hono on
 * loopback) and email (smtp-server). A receiver that is down gets retried with backoff, the others are
 * not held up, and the outbox survives a restart: delivered at least once, marked done only after success.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { channelsOf, findingWriter } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { findingId } from '../../../src/monitor/finding.ts';
import { alertmanagerChannel, emailChannel, slackChannel, webhookChannel } from '../../../src/notify/channels.ts';
import { Notifier } from '../../../src/notify/notifier.ts';
import { Outbox, outboxOps } from '../../../src/notify/outbox.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';
import { finding } from './finding.ts';
import { startReceivers, type Receivers } from './receivers.ts';

let webhookUp = false;
let r: Receivers;
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-notify-'));

beforeAll(async () => {
  r = await startReceivers({ '/hook': 'webhook', '/slack': 'slack', '/am/api/v2/alerts': 'alerts' }, (name) => name !== 'webhook' || webhookUp);
});
afterAll(async () => {
  await r.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('notifications', () => {
  it('deliver on every channel, retry a receiver that is down, and survive a restart', async () => {
    const channels = () => [
      webhookChannel(0, `${r.base}/hook`, 'shared-secret'),
      slackChannel(0, `${r.base}/slack`),
      alertmanagerChannel(0, `${r.base}/am`),
      emailChannel(0, r.smtpUrl, 'tlogwatch@example.org', ['security@example.org'], 10_000),
    ];
    const dir = join(tmp, 'store');
    let store = await Store.open(dir);
    // The finding and its outbox rows commit together.
    await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 4, 0)]);
    let metrics = createMetrics({ defaultMetrics: false });
    let clock = 1_000;
    let n = new Notifier(channels(), new Outbox(store), new FindingsRepo(store), metrics, createLogger({ level: 'silent' }), { baseDelayMs: 1000, now: () => clock });
    await n.runOnce();
    expect(r.received['slack']).toHaveLength(1);
    expect(r.received['alerts']).toHaveLength(1);
    expect(r.mails).toHaveLength(1);
    expect(r.received['webhook']).toHaveLength(0);
    const results = Object.fromEntries((await metrics.notifications.get()).values.map((v) => [`${v.labels.channel}:${v.labels.result}`, v.value]));
    expect(results).toMatchObject({ 'webhook:0:failed': 1, 'slack:0:delivered': 1, 'alertmanager:0:delivered': 1, 'email:0:delivered': 1 });
    // Not due yet: backoff holds the retry.
    await n.runOnce();
    expect(r.received['webhook']).toHaveLength(0);
    await n.stop();
    await store.close();

    // Restart with the receiver back: the outbox still holds the webhook row only.
    webhookUp = true;
    store = await Store.open(dir);
    expect([...(await new Outbox(store).pending()).entries()]).toEqual([[0, 1]]);
    metrics = createMetrics({ defaultMetrics: false });
    clock += 60_000;
    n = new Notifier(channels(), new Outbox(store), new FindingsRepo(store), metrics, createLogger({ level: 'silent' }), { now: () => clock });
    await n.runOnce();
    expect(r.received['webhook']).toHaveLength(1);
    const hook = r.received['webhook']![0]!;
    expect(hook.headers['x-tlogwatch-signature']).toBe(`sha256=${createHmac('sha256', 'shared-secret').update(hook.body).digest('hex')}`);
    expect(JSON.parse(hook.text).finding.id).toBe(finding.id);
    expect((await new Outbox(store).pending()).size).toBe(0);
    // Delivered rows are gone: nothing is sent twice.
    await n.runOnce();
    expect(r.received['webhook']).toHaveLength(1);
    expect(r.received['slack']).toHaveLength(1);
    const alert = JSON.parse(r.received['alerts']![0]!.text)[0];
    expect(alert.labels).toMatchObject({ alertname: 'TlogwatchFinding', rule: 'acme-release', severity: 'high' });
    expect(JSON.parse(r.received['slack']![0]!.text).text).toContain('[HIGH] acme-release');
    expect(r.mails[0]!.raw).toMatch(/Subject: tlogwatch \[HIGH\] acme-release/);
    await n.stop();
    await store.close();
  });

  it('Slack: what a certificate says is escaped, so a logged entry cannot ping a channel or disguise a link', async () => {
    const hostile = `https://github.com/acme/api/.github/workflows/x.yml@refs/heads/<!channel> <https://evil.example/ack|Acknowledge here> & co`;
    const before = r.received['slack']!.length;
    await slackChannel(0, `${r.base}/slack`).send({ ...finding, identity: hostile, message: `identity ${hostile} is not allowed` });
    const body = JSON.parse(r.received['slack']![before]!.text) as { text: string; blocks: Array<{ text: { text: string } }> };
    for (const t of [body.text, body.blocks[0]!.text.text]) {
      expect(t).not.toMatch(/[<>]/);
      expect(t).toContain('&lt;!channel&gt; &lt;https://evil.example/ack|Acknowledge here&gt; &amp; co');
    }
  });

  it('drop the rows of channels no longer configured, and deliver the rest', async () => {
    webhookUp = true;
    const store = await Store.open(join(tmp, 'removed'));
    try {
      // Rows for channels 0 (still configured), 1 and 255 (removed since they were queued).
      const f2 = { ...finding, id: findingId('acme-release', 'rekor', '200') };
      await store.db.batch([...findingOps(finding), ...findingOps(f2), ...outboxOps(finding.id, 2, 0), ...outboxOps(f2.id, [255], 0)]);
      expect([...(await new Outbox(store).pending()).entries()]).toEqual([[0, 1], [1, 1], [255, 1]]);
      const before = r.received['webhook']!.length;
      const n = new Notifier([webhookChannel(0, `${r.base}/hook`)], new Outbox(store), new FindingsRepo(store), createMetrics({ defaultMetrics: false }), createLogger({ level: 'silent' }));
      await n.runOnce();
      await n.stop();
      expect((await new Outbox(store).pending()).size).toBe(0);
      expect(r.received['webhook']!.length).toBe(before + 1);
    } finally {
      await store.close();
    }
  });

  it("a channel's minSeverity: a finding below it is never queued for that channel, the others still get it", async () => {
    webhookUp = true;
    const store = await Store.open(join(tmp, 'floor'));
    try {
      const config = parseConfig(`notify:\n  webhooks: [{ url: "${r.base}/hook" }]\n  slack: [{ url: "${r.base}/slack", minSeverity: high }]\n`, 'c.yaml', {});
      const channels = channelsOf(config);
      const write = findingWriter(channels);
      const low = { ...finding, id: findingId('undecoded-entry', 'rekor', '300'), severity: 'low' as const };
      const high = { ...finding, id: findingId('acme-release', 'rekor', '301') };
      const critical = { ...finding, id: findingId('acme-release', 'rekor', '302'), severity: 'critical' as const };
      await store.writeOps([...write(low), ...write(high), ...write(critical)]);
      // Rows: the webhook (channel 0) for all three, Slack (channel 1) for high and critical.
      expect([...(await new Outbox(store).pending()).entries()]).toEqual([[0, 3], [1, 2]]);
      const [hooks, slacks] = [r.received['webhook']!.length, r.received['slack']!.length];
      const n = new Notifier(channels, new Outbox(store), new FindingsRepo(store), createMetrics({ defaultMetrics: false }), createLogger({ level: 'silent' }));
      await n.runOnce();
      await n.stop();
      expect(r.received['webhook']!.length - hooks).toBe(3);
      expect(r.received['slack']!.length - slacks).toBe(2);
      expect((await new Outbox(store).pending()).size).toBe(0);
      // A floor names a severity: anything else is refused with the config.
      expect(() => parseConfig(`notify:\n  slack: [{ url: "${r.base}/slack", minSeverity: urgent }]\n`, 'c.yaml', {})).toThrow(/minSeverity/);
    } finally {
      await store.close();
    }
  });

  it('do nothing once stopped, so a batch committed during shutdown cannot race the store closing', async () => {
    const store = await Store.open(join(tmp, 'stopped'));
    await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 1, 0)]);
    const n = new Notifier([webhookChannel(0, `${r.base}/hook`, 'shared-secret')], new Outbox(store), new FindingsRepo(store), createMetrics({ defaultMetrics: false }), createLogger({ level: 'silent' }));
    await n.stop();
    await store.close();
    // The daemon's afterCommit hook may still call this after stop(); it must not read the closed store.
    await expect(n.runOnce()).resolves.toBeUndefined();
    const reopened = await Store.open(join(tmp, 'stopped'));
    expect((await new Outbox(reopened).pending()).get(0)).toBe(1); // still there for the next start
    await reopened.close();
  });
});
