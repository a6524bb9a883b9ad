/**
 * Real receivers on 127.0.0.1 for the notification tests: one HTTP server that records what each of its
 * paths is posted (the webhook, Slack, Alertmanager), and an SMTP server (smtp-server) that records each
 * message as it arrived, with its envelope's recipients.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { SMTPServer } from 'smtp-server';

export interface Received {
  /** The bytes posted, exactly. */
  body: Buffer;
  text: string;
  headers: Record<string, string>;
}

export interface Mail {
  /** The message as received, one character a byte. */
  raw: string;
  rcpt: string[];
}

export interface Receivers {
  /** `http://127.0.0.1:<port>` */
  base: string;
  smtpUrl: string;
  /** By name, what each path was posted, in order. */
  received: Record<string, Received[]>;
  mails: Mail[];
  close(): Promise<void>;
}

/** `paths`: path → name. A name for which `up` says false answers 503 and records nothing. */
export async function startReceivers(paths: Record<string, string>, up: (name: string) => boolean = () => true): Promise<Receivers> {
  const received: Record<string, Received[]> = Object.fromEntries(Object.values(paths).map((n) => [n, []]));
  const mails: Mail[] = [];
  const app = new Hono();
  for (const [path, name] of Object.entries(paths)) {
    app.post(path, async (c) => {
      if (!up(name)) return c.json({ down: true }, 503);
      const body = Buffer.from(await c.req.arrayBuffer());
      received[name]!.push({ body, text: body.toString('utf8'), headers: c.req.header() });
      return c.json({ ok: true });
    });
  }
  const http: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    size: 25 * 1024 * 1024,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('end', () => {
        mails.push({ raw: Buffer.concat(chunks).toString('latin1'), rcpt: session.envelope.rcptTo.map((r) => r.address) });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}?ignoreTLS=true`,
    received,
    mails,
    async close() {
      await new Promise<void>((r) => http.close(() => r()));
      await new Promise<void>((r) => smtp.close(() => r()));
    },
  };
}
