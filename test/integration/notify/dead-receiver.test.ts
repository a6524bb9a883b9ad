/**
 * A receiver that is down, with a backlog of findings, over a simulated window of passes one second
 * apart: a webhook that answers 503 and an SMTP server that refuses connections (421), then both come
 * back. The channel is held as a whole (src/notify/breaker.ts): the dead receiver gets one pass of sends
 * and then one probe at a doubling delay, not one attempt per finding per backoff; once a probe gets
 * through, the backlog drains at a rate that at most doubles a second, every finding is delivered exactly
 * once, the findings never attempted go out in the order they were queued, and each attempt is counted
 * once in tlogwatch_notifications_total.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { SMTPServer } from 'smtp-server';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics, type Metrics } from '../../../src/metrics.ts';
import { findingId, type Finding } from '../../../src/monitor/finding.ts';
import { FAILURES_TO_OPEN, PASS_MAX } from '../../../src/notify/breaker.ts';
import { emailChannel, webhookChannel, type Channel } from '../../../src/notify/channels.ts';
import { Notifier } from '../../../src/notify/notifier.ts';
import { Outbox, outboxOps } from '../../../src/notify/outbox.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';
import { finding } from './finding.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-dead-receiver-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What a receiver saw: the index of each finding it refused and took, in order. */
interface Seen {
  refused: number[];
  took: number[];
}

/** Finding `i` of the backlog: its own ID and index, which each channel's message names. */
const backlogFinding = (i: number): Finding => ({ ...finding, id: findingId('acme-release', 'rekor', String(i)), index: i });

const WINDOW_S = 30 * 60;

/**
 * Queues `n` findings for `channel` (due in that order), runs a pass a simulated second for WINDOW_S
 * with the receiver down, then brings it up and runs passes until the outbox is empty. Returns what
 * the receiver saw in each phase, which pass took each finding, and what the metrics counted.
 */
async function backlog(name: string, n: number, channel: Channel, seen: Seen, setUp: (up: boolean) => void) {
  const store = await Store.open(join(tmp, name));
  try {
    const fs = Array.from({ length: n }, (_, i) => backlogFinding(i));
    for (let i = 0; i < n; i += 500) await store.db.batch(fs.slice(i, i + 500).flatMap((f, j) => [...findingOps(f), ...outboxOps(f.id, 1, i + j)]));
    const metrics = createMetrics({ defaultMetrics: false });
    // The notifier's timer ticks every second; its clock moves on while a pass runs (1 ms a reading here),
    // so a pass's end is later than the next tick less a second, as with a real clock.
    let tick = n;
    let clock = tick;
    const said: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk: Buffer, _enc, done) => (said.push((JSON.parse(chunk.toString()) as { msg: string }).msg), done()) }) });
    const notifier = new Notifier([channel], new Outbox(store), new FindingsRepo(store), metrics, logger, { now: () => clock++, random: () => 0.5 });
    setUp(false);
    let upDuring = 1;
    for (let s = 0; s < WINDOW_S; s++, clock = tick += 1000) {
      await notifier.runOnce();
      upDuring = Math.min(upDuring, await gauge(metrics, channel.name));
    }
    const refusedWhileDown = seen.refused.length;
    // The findings attempted while it was down: their rows went back with a backoff, the rest kept their place.
    const indexOf = new Map(fs.map((f) => [f.id, f.index as number]));
    const tried = new Set((await new Outbox(store).due(Number.MAX_SAFE_INTEGER, n)).filter((row) => row.attempts > 0).map((row) => indexOf.get(row.findingId)!));
    setUp(true);
    const passOf = new Map<number, number>();
    const perPass: number[] = [];
    for (let pass = 0; (await new Outbox(store).pending()).size > 0; pass++, clock = tick += 1000) {
      expect(pass).toBeLessThan(1000);
      const before = seen.took.length;
      await notifier.runOnce();
      for (const i of seen.took.slice(before)) passOf.set(i, pass);
      if (seen.took.length > before) perPass.push(seen.took.length - before);
      // Once a probe got through, every tick drains some of the backlog until it is gone.
      else expect(perPass).toHaveLength(0);
    }
    await notifier.stop();
    const counted = Object.fromEntries((await metrics.notifications.get()).values.map((v) => [v.labels.result, v.value]));
    const transitions = said.filter((m) => m.startsWith('notification channel'));
    return { refusedWhileDown, tried, transitions, upDuring, upAfter: await gauge(metrics, channel.name), passOf, perPass, counted };
  } finally {
    await store.close();
  }
}

async function gauge(m: Metrics, channel: string): Promise<number> {
  return (await m.notificationChannelUp.get()).values.find((v) => v.labels.channel === channel)?.value ?? Number.NaN;
}

/** Probes in the window at delays of 0.75 × 2 s doubling to 0.75 × 600 s (random() = 0.5), plus the one that finds it back. */
function probesIn(windowMs: number): number {
  let probes = 0;
  for (let t = 0, k = 0; t <= windowMs; k++, probes++) t += Math.min(600_000, 2000 * 2 ** k) * 0.75;
  return probes + 1;
}

/** What every test checks once the receiver is back. */
function expectDrained(n: number, seen: Seen, r: Awaited<ReturnType<typeof backlog>>) {
  // Every finding once: the receiver took each index exactly once.
  expect(seen.took.length).toBe(n);
  expect(new Set(seen.took).size).toBe(n);
  // Each attempt counted once, as the receiver saw it.
  expect(r.counted).toEqual({ failed: seen.refused.length, delivered: n });
  // Held while down, up after: said once each way.
  expect(r.transitions).toEqual(['notification channel down: its backlog is held, one probe at its backoff', 'notification channel up again: its backlog drains at a bounded rate']);
  expect(r.upDuring).toBe(0);
  expect(r.upAfter).toBe(1);
  // A probe first, then at most twice the last pass's deliveries, never more than a full pass.
  expect(r.perPass[0]).toBe(1);
  for (let p = 1; p < r.perPass.length; p++) expect(r.perPass[p]).toBeLessThanOrEqual(Math.min(PASS_MAX, 2 * r.perPass[p - 1]!));
  // The findings never attempted while it was down went out in the order they were queued.
  const untouched = [...Array(n).keys()].filter((i) => !r.tried.has(i));
  for (let k = 1; k < untouched.length; k++) expect(r.passOf.get(untouched[k]!)!).toBeGreaterThanOrEqual(r.passOf.get(untouched[k - 1]!)!);
}

describe('a receiver that is down with a backlog', () => {
  it('webhook, 1,000 findings, 503 for 30 minutes: one pass and then probes, not an attempt per finding; all delivered once back', { timeout: 300_000 }, async () => {
    let up = false;
    const seen: Seen = { refused: [], took: [] };
    const app = new Hono();
    app.post('/hook', async (c) => {
      const i = (JSON.parse(await c.req.text()) as { finding: Finding }).finding.index as number;
      if (!up) {
        seen.refused.push(i);
        return c.json({ down: true }, 503);
      }
      seen.took.push(i);
      return c.json({ ok: true });
    });
    const http: ServerType = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`;
      const r = await backlog('webhook', 1000, webhookChannel(0, url), seen, (u) => (up = u));
      console.log(`webhook: ${r.refusedWhileDown} attempts at a dead receiver in ${WINDOW_S} s for 1,000 findings; drained in ${r.perPass.length} passes: ${r.perPass.join(',')}`);
      expect(r.refusedWhileDown).toBeLessThanOrEqual(FAILURES_TO_OPEN - 1 + PASS_MAX + probesIn(WINDOW_S * 1000));
      expect(r.tried).toEqual(new Set(seen.refused));
      expectDrained(1000, seen, r);
    } finally {
      await new Promise<void>((res) => http.close(() => res()));
    }
  });

  it('email, 200 findings, an SMTP server refusing connections for 30 minutes: the same', { timeout: 300_000 }, async () => {
    let up = false;
    const seen: Seen = { refused: [], took: [] };
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onConnect(_session, cb) {
        if (up) return cb();
        seen.refused.push(-1); // a refused connection does not say which finding it was for
        cb(Object.assign(new Error('service not available'), { responseCode: 421 }));
      },
      onData(stream, _session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (d: Buffer) => chunks.push(d));
        stream.on('end', () => {
          seen.took.push(Number(/acme-release: rekor#(\d+)/.exec(Buffer.concat(chunks).toString('latin1'))![1]));
          cb();
        });
      },
    });
    await new Promise<void>((res) => smtp.listen(0, '127.0.0.1', res));
    try {
      const port = (smtp.server.address() as AddressInfo).port;
      const channel = emailChannel(0, `smtp://127.0.0.1:${port}?ignoreTLS=true`, 'tlogwatch@example.org', ['security@example.org'], 10_000);
      const r = await backlog('email', 200, channel, seen, (u) => (up = u));
      console.log(`email: ${r.refusedWhileDown} connections to a refusing server in ${WINDOW_S} s for 200 findings; drained in ${r.perPass.length} passes: ${r.perPass.join(',')}`);
      expect(r.refusedWhileDown).toBeLessThanOrEqual(FAILURES_TO_OPEN - 1 + PASS_MAX + probesIn(WINDOW_S * 1000));
      expect(r.tried.size).toBeLessThanOrEqual(seen.refused.length);
      expectDrained(200, seen, r);
    } finally {
      await new Promise<void>((res) => smtp.close(() => res()));
    }
  });

  it('an SMTP server that takes the message for one recipient and refuses the other is up: the channel is held only once nothing gets through', async () => {
    const mails: string[][] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onRcptTo(address, _session, cb) {
        if (address.address === 'full@example.org') return cb(Object.assign(new Error('mailbox full'), { responseCode: 452 }));
        cb();
      },
      onData(stream, session, cb) {
        stream.resume().on('end', () => (mails.push(session.envelope.rcptTo.map((r) => r.address)), cb()));
      },
    });
    await new Promise<void>((res) => smtp.listen(0, '127.0.0.1', res));
    const store = await Store.open(join(tmp, 'partly'));
    try {
      const port = (smtp.server.address() as AddressInfo).port;
      const channel = emailChannel(0, `smtp://127.0.0.1:${port}?ignoreTLS=true`, 'tlogwatch@example.org', ['security@example.org', 'full@example.org'], 10_000);
      const fs = Array.from({ length: 10 }, (_, i) => backlogFinding(i));
      await store.db.batch(fs.flatMap((f, i) => [...findingOps(f), ...outboxOps(f.id, 1, i)]));
      const metrics = createMetrics({ defaultMetrics: false });
      let clock = 100;
      const n = new Notifier([channel], new Outbox(store), new FindingsRepo(store), metrics, createLogger({ level: 'silent' }), { now: () => clock, baseDelayMs: 1000, random: () => 0.5 });
      await n.runOnce();
      // Each row went to the recipient that takes it and was refused by the full mailbox alone: 10 failed
      // attempts, and the receiver is there all the same.
      expect(mails).toEqual(Array(10).fill(['security@example.org']));
      expect(await gauge(metrics, channel.name)).toBe(1);
      // Their retries go to the full mailbox alone, and nothing gets through: now the channel is held.
      clock += 60_000;
      await n.runOnce();
      await n.stop();
      expect(mails).toHaveLength(10);
      expect(await gauge(metrics, channel.name)).toBe(0);
    } finally {
      await store.close();
      await new Promise<void>((res) => smtp.close(() => res()));
    }
  });
});
