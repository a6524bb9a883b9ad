/**
 * Every channel against a real local receiver: webhook (HMAC verified), Slack, Alertmanager (Hono on
 * loopback) and email (smtp-server). A receiver that is down gets retried with backoff, the others are
 * not held up, and the outbox survives a restart: delivered at least once, marked done only after success.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { findingId } from '../../../src/monitor/finding.ts';
import { alertmanagerChannel, emailChannel, slackChannel, webhookChannel } from '../../../src/notify/channels.ts';
import { Notifier } from '../../../src/notify/notifier.ts';
import { Outbox, outboxOps } from '../../../src/notify/outbox.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';
import { finding } from './finding.ts';

const received: Record<string, Array<{ body: string; headers: Record<string, string> }>> = { webhook: [], slack: [], alerts: [] };
const mails: string[] = [];
let webhookUp = false;
let http: ServerType;
let smtp: SMTPServer;
let base = '';
let smtpPort = 0;
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-notify-'));

beforeAll(async () => {
  const app = new Hono();
  const record = (name: string) => async (c: { req: { text(): Promise<string>; header(): Record<string, string> }; json: (b: unknown, s?: number) => Response }) => {
    received[name]!.push({ body: await c.req.text(), headers: c.req.header() });
    return c.json({ ok: true });
  };
  app.post('/hook', async (c) => (webhookUp ? record('webhook')(c as never) : c.json({ down: true }, 503)));
  app.post('/slack', (c) => record('slack')(c as never));
  app.post('/am/api/v2/alerts', (c) => record('alerts')(c as never));
  http = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, cb) {
      let data = '';
      stream.on('data', (d: Buffer) => (data += d.toString()));
      stream.on('end', () => {
        mails.push(data);
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => http.close(() => r()));
  await new Promise<void>((r) => smtp.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('notifications', () => {
  it('deliver on every channel, retry a receiver that is down, and survive a restart', async () => {
    const channels = () => [
      webhookChannel(0, `${base}/hook`, 'shared-secret'),
      slackChannel(0, `${base}/slack`),
      alertmanagerChannel(0, `${base}/am`),
      emailChannel(0, `smtp://127.0.0.1:${smtpPort}?ignoreTLS=true`, 'tlogwatch@example.org', ['security@example.org']),
    ];
    const dir = join(tmp, 'store');
    let store = await Store.open(dir);
    // The finding and its outbox rows commit together.
    await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 4, 0)]);
    let metrics = createMetrics({ defaultMetrics: false });
    let clock = 1_000;
    let n = new Notifier(channels(), new Outbox(store), new FindingsRepo(store), metrics, createLogger({ level: 'silent' }), { baseDelayMs: 1000, now: () => clock });
    await n.runOnce();
    expect(received['slack']).toHaveLength(1);
    expect(received['alerts']).toHaveLength(1);
    expect(mails).toHaveLength(1);
    expect(received['webhook']).toHaveLength(0);
    const results = Object.fromEntries((await metrics.notifications.get()).values.map((v) => [`${v.labels.channel}:${v.labels.result}`, v.value]));
    expect(results).toMatchObject({ 'webhook:0:failed': 1, 'slack:0:delivered': 1, 'alertmanager:0:delivered': 1, 'email:0:delivered': 1 });
    // Not due yet: backoff holds the retry.
    await n.runOnce();
    expect(received['webhook']).toHaveLength(0);
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
    expect(received['webhook']).toHaveLength(1);
    const hook = received['webhook']![0]!;
    expect(hook.headers['x-tlogwatch-signature']).toBe(`sha256=${createHmac('sha256', 'shared-secret').update(hook.body).digest('hex')}`);
    expect(JSON.parse(hook.body).finding.id).toBe(finding.id);
    expect((await new Outbox(store).pending()).size).toBe(0);
    // Delivered rows are gone: nothing is sent twice.
    await n.runOnce();
    expect(received['webhook']).toHaveLength(1);
    expect(received['slack']).toHaveLength(1);
    const alert = JSON.parse(received['alerts']![0]!.body)[0];
    expect(alert.labels).toMatchObject({ alertname: 'TlogwatchFinding', rule: 'acme-release', severity: 'high' });
    expect(JSON.parse(received['slack']![0]!.body).text).toContain('[HIGH] acme-release');
    expect(mails[0]).toMatch(/Subject: tlogwatch \[HIGH\] acme-release/);
    await n.stop();
    await store.close();
  });

  it('Slack: what a certificate says is escaped, so a logged entry cannot ping a channel or disguise a link', async () => {
    const hostile = `https://github.com/acme/api/.github/workflows/x.yml@refs/heads/<!channel> <https://evil.example/ack|Acknowledge here> & co`;
    const before = received['slack']!.length;
    await slackChannel(0, `${base}/slack`).send({ ...finding, identity: hostile, message: `identity ${hostile} is not allowed` });
    const body = JSON.parse(received['slack']![before]!.body) as { text: string; blocks: Array<{ text: { text: string } }> };
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
      await store.db.batch([...findingOps(finding), ...findingOps(f2), ...outboxOps(finding.id, 2, 0), ...outboxOps(f2.id, 256, 0).slice(255)]);
      expect([...(await new Outbox(store).pending()).entries()]).toEqual([[0, 1], [1, 1], [255, 1]]);
      const before = received['webhook']!.length;
      const n = new Notifier([webhookChannel(0, `${base}/hook`)], new Outbox(store), new FindingsRepo(store), createMetrics({ defaultMetrics: false }), createLogger({ level: 'silent' }));
      await n.runOnce();
      await n.stop();
      expect((await new Outbox(store).pending()).size).toBe(0);
      expect(received['webhook']!.length).toBe(before + 1);
    } finally {
      await store.close();
    }
  });

  it('do nothing once stopped, so a batch committed during shutdown cannot race the store closing', async () => {
    const store = await Store.open(join(tmp, 'stopped'));
    await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 1, 0)]);
    const n = new Notifier([webhookChannel(0, `${base}/hook`, 'shared-secret')], new Outbox(store), new FindingsRepo(store), createMetrics({ defaultMetrics: false }), createLogger({ level: 'silent' }));
    await n.stop();
    await store.close();
    // The daemon's afterCommit hook may still call this after stop(); it must not read the closed store.
    await expect(n.runOnce()).resolves.toBeUndefined();
    const reopened = await Store.open(join(tmp, 'stopped'));
    expect((await new Outbox(reopened).pending()).get(0)).toBe(1); // still there for the next start
    await reopened.close();
  });
});
