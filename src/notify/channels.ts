/**
 * Notification channels: generic webhook (JSON, HMAC-SHA256 signature header), Slack-compatible incoming
 * webhook, Prometheus Alertmanager (POST /api/v2/alerts), email over SMTP (nodemailer), and a program run
 * per finding (./command.ts). Each `send` resolves on delivery and throws on failure; retries are the
 * outbox's business.
 */
import { createHmac } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { Finding } from '../monitor/finding.ts';
import { USER_AGENT } from '../version.ts';

export interface Channel {
  /** Bounded metric label, e.g. `webhook:0`. */
  name: string;
  /** `signal` aborts when the daemon stops, for a channel whose sends can take long (a command's). */
  send(f: Finding, signal?: AbortSignal): Promise<void>;
}

/** The finding as the webhook posts it and a command reads it on stdin. */
export const findingDocument = (f: Finding) => ({ type: 'tlogwatch.finding', finding: f }) as const;

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers }, signal: AbortSignal.timeout(10_000) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${new URL(url).host}`);
}

const title = (f: Finding) => `[${f.severity.toUpperCase()}] ${f.rule}: ${f.log}${f.index !== undefined ? `#${f.index}` : ''}`;

/** JSON of the finding; `X-Tlogwatch-Signature: sha256=<hex HMAC of the body>` when a secret is set. */
export function webhookChannel(i: number, url: string, secret?: string): Channel {
  return {
    name: `webhook:${i}`,
    async send(f) {
      const body = JSON.stringify(findingDocument(f));
      const headers: Record<string, string> = { 'x-tlogwatch-finding': f.id };
      if (secret) headers['x-tlogwatch-signature'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      await post(url, body, headers);
    },
  };
}

/**
 * Slack reads `&`, `<` and `>` as markup in message text: `<!channel>` notifies a whole channel and
 * `<https://x|label>` is a link that shows only its label (api.slack.com/reference/surfaces/formatting,
 * "Escaping text"). A finding quotes what an entry's certificate says, and Rekor v1 logs certificates
 * anyone made, so the three are escaped: a logged entry must not ping or phish the team that watches it.
 */
const slackText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackChannel(i: number, url: string): Channel {
  return {
    name: `slack:${i}`,
    async send(f) {
      const head = slackText(title(f));
      const message = slackText(f.message);
      const text = `${head}\n${message}${f.identity ? `\nidentity: ${slackText(f.identity)}` : ''}${f.digest ? `\ndigest: ${slackText(f.digest)}` : ''}`;
      await post(url, JSON.stringify({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${head}*\n${message}` } }] }));
    },
  };
}

export function alertmanagerChannel(i: number, url: string): Channel {
  return {
    name: `alertmanager:${i}`,
    async send(f) {
      const alert = {
        labels: { alertname: 'TlogwatchFinding', rule: f.rule, severity: f.severity, log: f.log, finding: f.id, ...(f.labels ?? {}) },
        annotations: { summary: title(f), description: f.message, ...(f.identity ? { identity: f.identity } : {}), ...(f.digest ? { digest: f.digest } : {}) },
        startsAt: new Date(f.firstSeen * 1000).toISOString(),
      };
      await post(`${url.replace(/\/+$/, '')}/api/v2/alerts`, JSON.stringify([alert]));
    },
  };
}

export function emailChannel(i: number, smtpUrl: string, from: string, to: string[]): Channel {
  // nodemailer is loaded with the first email, not at start: a daemon without email channels never pays
  // for it (with @sigstore/tuf, also loaded on demand, ~8 MB of resident memory at start). The URL was
  // validated with the config. A failed load is not kept: the outbox's next retry loads it again.
  let transport: Promise<Transporter> | undefined;
  return {
    name: `email:${i}`,
    async send(f) {
      const loading = (transport ??= import('nodemailer').then((m) => m.default.createTransport(smtpUrl)));
      const t = await loading.catch((e: unknown) => {
        if (transport === loading) transport = undefined;
        throw e;
      });
      await t.sendMail({
        from,
        to,
        subject: `tlogwatch ${title(f)}`,
        text: `${f.message}\n\n${JSON.stringify(f, null, 2)}\n`,
      });
    },
  };
}
