/**
 * Receivers that misbehave at the protocol level, on 127.0.0.1: SMTP servers that never greet, go quiet
 * mid-dialogue, drip continuation lines, reset the connection or refuse the recipient, and a webhook that
 * never answers. Whatever they do, a pass of the notifier ends (each send has a deadline), the failure is
 * counted in tlogwatch_notifications_total{result="failed"}, the row stays in the outbox for a retry, and
 * stopping the notifier does not wait for them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { emailChannel, webhookChannel, type Channel } from '../../../src/notify/channels.ts';
import { Notifier } from '../../../src/notify/notifier.ts';
import { Outbox, outboxOps } from '../../../src/notify/outbox.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';
import { finding } from './finding.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-hostile-receivers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A TCP server that runs `behave` on each connection; close() ends every connection it still holds. */
interface Hostile {
  port: number;
  connections: number;
  close(): Promise<void>;
}
const servers: Hostile[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function hostile(behave: (s: Socket) => void): Promise<Hostile> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const h: Hostile = { port: 0, connections: 0, close: () => Promise.resolve() };
  const server: Server = createServer((s) => {
    h.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s)).on('error', () => {});
    behave(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  h.port = (server.address() as AddressInfo).port;
  h.close = async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  servers.push(h);
  return h;
}

/** Writes `line` every `ms` until the socket closes. */
function drip(s: Socket, line: string, ms: number): void {
  const t = setInterval(() => s.write(line), ms);
  s.on('close', () => clearInterval(t));
}

/** Answers each command line with `answer(line)`, as an SMTP server does; undefined: say nothing. */
function smtpDialogue(s: Socket, answer: (line: string) => string | undefined): void {
  s.write('220 hostile.test ESMTP\r\n');
  let buf = '';
  s.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
      const reply = answer(buf.slice(0, i));
      buf = buf.slice(i + 2);
      if (reply !== undefined) s.write(reply);
    }
  });
}

const DEADLINE_MS = 1500;

/** One finding queued for `channel`, one pass; how long the pass took, what was counted and what is left. */
async function onePass(name: string, channel: Channel) {
  const store = await Store.open(join(tmp, name));
  try {
    await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 1, 0)]);
    const metrics = createMetrics({ defaultMetrics: false });
    const n = new Notifier([channel], new Outbox(store), new FindingsRepo(store), metrics, createLogger({ level: 'silent' }));
    const started = performance.now();
    await n.runOnce();
    const ms = performance.now() - started;
    await n.stop();
    const counted = Object.fromEntries((await metrics.notifications.get()).values.map((v) => [v.labels.result, v.value]));
    const rows = await new Outbox(store).due(Number.MAX_SAFE_INTEGER);
    return { ms, counted, rows };
  } finally {
    await store.close();
  }
}

const smtp = (port: number, deadline = DEADLINE_MS) => emailChannel(0, `smtp://127.0.0.1:${port}?ignoreTLS=true`, 'tlogwatch@example.org', ['security@example.org'], deadline);

describe('an SMTP server that misbehaves', () => {
  const cases: Array<[string, (s: Socket) => void]> = [
    // nodemailer's greeting timeout (30 s) would end this one; the deadline ends it sooner.
    ['accepts the connection and never greets', () => {}],
    // Only nodemailer's inactivity timeout applied here: 10 minutes.
    ['greets, then never answers EHLO', (s) => smtpDialogue(s, () => undefined)],
    // Never inactive, so no nodemailer timeout applies at all: a send that never ended.
    ['answers EHLO with a continuation line every 200 ms, for ever', (s) => smtpDialogue(s, (l) => (/^EHLO/i.test(l) ? void drip(s, '250-still going\r\n', 200) : undefined))],
    // The message's lines and its final "." get no answer.
    ['takes the message, then never confirms it', (s) => smtpDialogue(s, (l) => (/^(EHLO|MAIL|RCPT)/i.test(l) ? '250 ok\r\n' : /^DATA/i.test(l) ? '354 go on\r\n' : undefined))],
  ];
  for (const [what, behave] of cases) {
    it(`${what}: the send ends at its deadline, counted as failed, the row kept for a retry`, async () => {
      const server = await hostile(behave);
      const { ms, counted, rows } = await onePass(`smtp-${cases.findIndex(([w]) => w === what)}`, smtp(server.port));
      expect(server.connections).toBe(1);
      expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(ms).toBeLessThan(DEADLINE_MS + 5000);
      expect(counted).toEqual({ failed: 1 });
      expect(rows).toMatchObject([{ findingId: finding.id, attempts: 1, lastError: expect.stringMatching(new RegExp(`email to 127\\.0\\.0\\.1:${server.port} timed out after ${DEADLINE_MS} ms`)) }]);
    });
  }

  it('that hangs is not asked again at once: the backoff counts from the failure, not from the start of the pass', async () => {
    const server = await hostile((s) => smtpDialogue(s, () => undefined));
    const store = await Store.open(join(tmp, 'smtp-backoff'));
    try {
      await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 1, 0)]);
      // A first retry 0.5–1 s after the failure: shorter than the send's deadline, so a backoff counted
      // from the pass's start would have been due before the pass even ended.
      const n = new Notifier([smtp(server.port)], new Outbox(store), new FindingsRepo(store), createMetrics({ defaultMetrics: false }), createLogger({ level: 'silent' }), { baseDelayMs: 1000 });
      await n.runOnce();
      const [row] = await new Outbox(store).due(Number.MAX_SAFE_INTEGER);
      expect(row!.nextAt).toBeGreaterThan(Date.now());
      await n.runOnce();
      await n.stop();
      expect(server.connections).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('resets the connection after the greeting, or refuses the recipient: failed at once, counted, kept', async () => {
    const reset = await hostile((s) => smtpDialogue(s, () => void s.resetAndDestroy()));
    const refuse = await hostile((s) => smtpDialogue(s, (l) => (/^(EHLO|MAIL)/i.test(l) ? '250 ok\r\n' : /^RCPT/i.test(l) ? '550 5.1.1 no such user\r\n' : /^(QUIT|RSET)/i.test(l) ? '221 bye\r\n' : undefined)));
    for (const [name, server, error] of [['smtp-reset', reset, /ECONNRESET|Connection closed/], ['smtp-refuse', refuse, /550 5\.1\.1 no such user/]] as const) {
      // Well before a deadline of 10 s: the refusal ends the send, not the clock.
      const { ms, counted, rows } = await onePass(name, smtp(server.port, 10_000));
      expect(ms).toBeLessThan(5000);
      expect(counted).toEqual({ failed: 1 });
      expect(rows).toMatchObject([{ findingId: finding.id, attempts: 1, lastError: expect.stringMatching(error) }]);
    }
  });
});

describe('an SMTP server that takes a message for some recipients and refuses others', () => {
  it('sends it to the others on the next attempt, and only to them, counting the first as failed', async () => {
    let mailboxFull = true;
    /** The recipients of each message the server took. */
    const took: string[][] = [];
    const server = await hostile((s) => {
      let rcpt: string[] = [];
      let inData = false;
      smtpDialogue(s, (l) => {
        if (inData) {
          if (l !== '.') return undefined;
          inData = false;
          took.push(rcpt);
          rcpt = [];
          return '250 queued\r\n';
        }
        if (/^RCPT/i.test(l)) {
          const to = /<([^>]+)>/.exec(l)![1]!;
          if (to.startsWith('full@') && mailboxFull) return '452 4.2.2 mailbox full\r\n';
          rcpt.push(to);
          return '250 ok\r\n';
        }
        if (/^DATA/i.test(l)) return (inData = true), '354 go on\r\n';
        return /^QUIT/i.test(l) ? '221 bye\r\n' : '250 ok\r\n';
      });
    });
    const store = await Store.open(join(tmp, 'smtp-partly'));
    try {
      await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 1, 0)]);
      const metrics = createMetrics({ defaultMetrics: false });
      const channel = emailChannel(0, `smtp://127.0.0.1:${server.port}?ignoreTLS=true`, 'tlogwatch@example.org', ['security@example.org', 'full@example.org'], 10_000);
      let clock = 1_000_000;
      const n = new Notifier([channel], new Outbox(store), new FindingsRepo(store), metrics, createLogger({ level: 'silent' }), { now: () => clock });
      await n.runOnce();
      expect(took).toEqual([['security@example.org']]);
      const [row] = await new Outbox(store).due(Number.MAX_SAFE_INTEGER);
      expect(row).toMatchObject({ attempts: 1, done: ['security@example.org'], lastError: expect.stringMatching(/full@example\.org refused \(452 4\.2\.2 mailbox full\); sent to 1 of 2/) });
      mailboxFull = false;
      clock += 3_600_000;
      await n.runOnce();
      await n.stop();
      expect(took).toEqual([['security@example.org'], ['full@example.org']]);
      expect((await new Outbox(store).pending()).size).toBe(0);
      expect(Object.fromEntries((await metrics.notifications.get()).values.map((v) => [v.labels.result, v.value]))).toEqual({ failed: 1, delivered: 1 });
    } finally {
      await store.close();
    }
  });
});

describe('stopping the notifier while a receiver hangs', () => {
  const cases: Array<[string, (port: number) => Channel]> = [
    ['an SMTP server that never greets', (port) => emailChannel(0, `smtp://127.0.0.1:${port}?ignoreTLS=true`, 'tlogwatch@example.org', ['security@example.org'], 600_000)],
    // fetch's own deadline for a webhook is 10 s: stop() waited that long.
    ['a webhook that never answers', (port) => webhookChannel(0, `http://127.0.0.1:${port}/hook`)],
  ];
  for (const [what, channel] of cases) {
    it(`${what}: stop() aborts the send at once and the row waits for the next start`, async () => {
      const server = await hostile(() => {}); // takes the connection, says nothing
      const store = await Store.open(join(tmp, `stop-${cases.findIndex(([w]) => w === what)}`));
      try {
        await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 1, 0)]);
        const metrics = createMetrics({ defaultMetrics: false });
        const n = new Notifier([channel(server.port)], new Outbox(store), new FindingsRepo(store), metrics, createLogger({ level: 'silent' }));
        const pass = n.runOnce();
        while (server.connections === 0) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, 200)); // the request is out and waiting
        const started = performance.now();
        await n.stop();
        await pass;
        expect(performance.now() - started).toBeLessThan(3000);
        expect((await metrics.notifications.get()).values.map((v) => [v.labels.result, v.value])).toEqual([['failed', 1]]);
        expect(await new Outbox(store).due(Number.MAX_SAFE_INTEGER)).toMatchObject([{ findingId: finding.id, attempts: 1, lastError: expect.stringMatching(/shutting down/) }]);
      } finally {
        await store.close();
      }
    });
  }
});
