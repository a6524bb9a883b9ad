/**
 * Notification channels: generic webhook (JSON, HMAC-SHA256 signature header), Slack-compatible incoming
 * webhook, Prometheus Alertmanager (POST /api/v2/alerts), email over SMTP (nodemailer), and a program run
 * per finding (./command.ts). Each `send` resolves on delivery and throws on failure; retries are the
 * outbox's business.
 *
 * What goes to another system is the finding exactly: the webhook's body and a command's stdin. What a
 * person reads (an email, a Slack message, Alertmanager's annotations) is made visible and bounded
 * (./text.ts), with the finding's ID to get it whole.
 */
import { createHmac } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import { TlogwatchError } from '../errors.ts';
import type { Finding } from '../monitor/finding.ts';
import type { Severity } from '../monitor/rules/schema.ts';
import { visibleJson } from '../util/terminal.ts';
import { USER_AGENT } from '../version.ts';
import { FIELD_MAX, forPeople, MESSAGE_MAX, wholeFindingAt } from './text.ts';

export interface Channel {
  /** Bounded metric label, e.g. `webhook:0`. */
  name: string;
  /** Findings below this severity are not queued for the channel (config `minSeverity`); unset: every one. */
  minSeverity?: Severity;
  /**
   * `signal` aborts when the daemon stops: a send in progress ends then, and its row waits for the next
   * start. `done`: the parts of this notification earlier attempts delivered (an email's recipients that
   * took it), not to be sent again; a send that delivers some parts and not others throws PartlyDelivered.
   */
  send(f: Finding, signal?: AbortSignal, done?: readonly string[]): Promise<void>;
}

/** A failed send that delivered some parts all the same: `done` (with those of earlier attempts) are not sent again. */
export class PartlyDelivered extends TlogwatchError {
  readonly done: readonly string[];
  constructor(done: readonly string[], message: string, data: Record<string, unknown>) {
    super('NOTIFY_FAILED', message, { kind: 'transient', data });
    this.done = done;
  }
}

/** The finding as the webhook posts it and a command reads it on stdin. */
export const findingDocument = (f: Finding) => ({ type: 'tlogwatch.finding', finding: f }) as const;

/** A POST gets 10 s, and ends at once when the daemon stops (`stopping`): stop() would wait out the 10 s. */
async function post(url: string, body: string, stopping: AbortSignal | undefined, headers: Record<string, string> = {}): Promise<void> {
  const deadline = AbortSignal.timeout(10_000);
  const signal = stopping ? AbortSignal.any([deadline, stopping]) : deadline;
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers }, signal });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${new URL(url).host}`);
}

/** Rule, log and index come from the configuration and the log, not from a certificate; shown as people's text all the same. */
const title = (f: Finding) => forPeople(`[${f.severity.toUpperCase()}] ${f.rule}: ${f.log}${f.index !== undefined ? `#${f.index}` : ''}`, FIELD_MAX, wholeFindingAt(f.id));

/** The lines a person reads: the message, the identity and the digest, each bounded, each after `markup`. */
function shownFields(f: Finding, markup?: (c: string) => string) {
  const whole = wholeFindingAt(f.id);
  return {
    message: forPeople(f.message, MESSAGE_MAX, whole, markup),
    ...(f.identity !== undefined ? { identity: forPeople(f.identity, FIELD_MAX, whole, markup) } : {}),
    ...(f.digest !== undefined ? { digest: forPeople(f.digest, FIELD_MAX, whole, markup) } : {}),
  };
}

/** JSON of the finding; `X-Tlogwatch-Signature: sha256=<hex HMAC of the body>` when a secret is set. */
export function webhookChannel(i: number, url: string, secret?: string): Channel {
  return {
    name: `webhook:${i}`,
    async send(f, stopping) {
      const body = JSON.stringify(findingDocument(f));
      const headers: Record<string, string> = { 'x-tlogwatch-finding': f.id };
      if (secret) headers['x-tlogwatch-signature'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      await post(url, body, stopping, headers);
    },
  };
}

/**
 * Slack reads `&`, `<` and `>` as markup in message text: `<!channel>` notifies a whole channel and
 * `<https://x|label>` is a link that shows only its label. Slack's escaping is those three as HTML entities
 * and nothing else ("only the specific characters shown above will be decoded"; docs.slack.dev
 * messaging/formatting-message-text, "Escaping text"). A finding quotes what an entry's certificate says,
 * and Rekor v1 logs certificates anyone made, so the three are escaped: a logged entry must not ping or
 * phish the team that watches it. Slack documents no escape for `*`, `_`, `~` or backticks; they may
 * still bold or strike a quoted word, but cannot mention anyone or make a link. The section's mrkdwn is
 * `verbatim` (text object reference: no automatic parsing, so a bare URL, `#channel` or `@here` in a quoted
 * value stays text).
 */
const SLACK_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const slackText = (s: string) => s.replace(/[&<>]/g, (c) => SLACK_ENTITIES[c]!);

/**
 * A section block's text holds at most 3,000 characters (Block Kit text object reference) and a longer one
 * fails the whole post, which the outbox would retry for ever; the message's fallback `text` is truncated by
 * Slack past 40,000. Title, message, identity and digest are each bounded (./text.ts), so both stay under
 * 3,000 with the markup.
 */
export function slackMessage(f: Finding): { text: string; blocks: unknown[] } {
  const head = forPeople(title(f), FIELD_MAX, wholeFindingAt(f.id), slackText);
  const { message, identity, digest } = shownFields(f, slackText);
  const text = `${head}\n${message}${identity !== undefined ? `\nidentity: ${identity}` : ''}${digest !== undefined ? `\ndigest: ${digest}` : ''}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${head}*\n${message}`, verbatim: true } }] };
}

export function slackChannel(i: number, url: string): Channel {
  return {
    name: `slack:${i}`,
    async send(f, stopping) {
      await post(url, JSON.stringify(slackMessage(f)), stopping);
    },
  };
}

/**
 * Alertmanager accepts any annotation that is valid UTF-8 and sets no size on it (types.Validate in
 * prometheus/alertmanager); it keeps each alert in memory and hands annotations to its receivers' templates,
 * which show them to people in Slack, email or a pager. So they are people's text: visible and bounded like
 * ours. Labels carry no certificate text: rule, severity and log come from the configuration, `finding` is
 * the ID, and a rule's own labels are its file's.
 */
function annotations(f: Finding): Record<string, string> {
  const { message, ...rest } = shownFields(f);
  return { description: message, ...rest };
}

export function alertmanagerChannel(i: number, url: string): Channel {
  return {
    name: `alertmanager:${i}`,
    async send(f, stopping) {
      const alert = {
        labels: { alertname: 'TlogwatchFinding', rule: f.rule, severity: f.severity, log: f.log, finding: f.id, ...(f.labels ?? {}) },
        annotations: { summary: title(f), ...annotations(f) },
        startsAt: new Date(f.firstSeen * 1000).toISOString(),
      };
      await post(`${url.replace(/\/+$/, '')}/api/v2/alerts`, JSON.stringify([alert]), stopping);
    },
  };
}

/** The longest JSON copy an email carries (UTF-8 bytes); a larger finding is named, not attached. */
export const EMAIL_JSON_MAX_BYTES = 1024 * 1024;

/**
 * The subject (title only: configuration and log, with no certificate text) and the text: the message as
 * people should see it, then the finding as JSON, exact when parsed (hidden characters as JSON escapes,
 * util/terminal.ts visibleJson). nodemailer turns a CR or LF in a header into a space and folds a long one
 * (test/integration/notify/hostile.test.ts checks both with a real receiver), so a subject cannot add a
 * header; the title is bounded all the same. A JSON copy over EMAIL_JSON_MAX_BYTES (a DSSE entry with many
 * self-made certificates) is left out and the text says where the finding is.
 */
export function emailContent(f: Finding): { subject: string; text: string } {
  const json = visibleJson(JSON.stringify(f, null, 2));
  const bytes = Buffer.byteLength(json);
  const copy = bytes <= EMAIL_JSON_MAX_BYTES ? json : `(The finding as JSON is ${bytes} bytes, over the ${EMAIL_JSON_MAX_BYTES} an email carries: ${wholeFindingAt(f.id)}.)`;
  return { subject: `tlogwatch ${title(f)}`, text: `${shownFields(f).message}\n\n${copy}\n` };
}

/**
 * nodemailer's own timeouts do not bound a send: after the greeting only socketTimeout applies, and it is
 * inactivity (10 minutes by default), so a server that goes quiet holds the send for 10 minutes and one
 * that drips a continuation line ("250-…") every few seconds holds it for ever. The channel's pass waits
 * for it all that while: its later findings wait, no failure is counted (TlogwatchNotificationsFailing
 * never fires), and stop() waits too. So each send has a deadline (`notify.email[].timeout`), and stopping
 * the notifier aborts it; either way nodemailer closes the connection (its `signal` mail option) and the
 * row is retried. RFC 5321 §4.5.3.2 lets a server take up to 10 minutes to confirm a message; one slower
 * than the deadline may get the email twice, which at-least-once delivery allows.
 */
/**
 * Each recipient is a part of the notification (Channel `done`): a server that takes the message for some
 * recipients and refuses others (a full mailbox's 452, RFC 5321 §4.2.2) leaves the others to the next
 * attempt, sent to them alone. nodemailer counts such a send as a success (it fails only when every
 * recipient is refused), so the refused recipients never got the finding, and it was counted delivered.
 */
export function emailChannel(i: number, smtpUrl: string, from: string, to: string[], timeoutMs: number): Channel {
  // nodemailer is loaded with the first email, not at start: a daemon without email channels never pays
  // for it (with @sigstore/tuf, also loaded on demand, ~8 MB of resident memory at start). The URL was
  // validated with the config. A failed load is not kept: the outbox's next retry loads it again.
  let transport: Promise<Transporter> | undefined;
  const name = `email:${i}`;
  return {
    name,
    async send(f, stopping, done = []) {
      const recipients = to.filter((r) => !done.includes(r));
      if (recipients.length === 0) return;
      const loading = (transport ??= import('nodemailer').then((m) => m.default.createTransport(smtpUrl)));
      const t = await loading.catch((e: unknown) => {
        if (transport === loading) transport = undefined;
        throw e;
      });
      const deadline = AbortSignal.timeout(timeoutMs);
      let info: { rejected?: unknown[]; rejectedErrors?: Array<{ response?: string; message: string }> };
      try {
        info = await t.sendMail({ from, to: recipients, ...emailContent(f), signal: stopping ? AbortSignal.any([deadline, stopping]) : deadline });
      } catch (e) {
        if (!deadline.aborted && !stopping?.aborted) throw e;
        const why = stopping?.aborted ? 'stopped: tlogwatch is shutting down' : `timed out after ${timeoutMs} ms`;
        throw new TlogwatchError('NOTIFY_FAILED', `email to ${new URL(smtpUrl).host} ${why}`, { kind: 'transient', data: { channel: name }, cause: e });
      }
      const refused = new Set((info.rejected ?? []).map((r) => String(r).toLowerCase()));
      if (refused.size === 0) return;
      const took = recipients.filter((r) => !refused.has(r.toLowerCase()));
      const why = (info.rejectedErrors ?? []).map((e) => e.response ?? e.message).join('; ');
      throw new PartlyDelivered([...done, ...took], `email to ${new URL(smtpUrl).host}: ${[...refused].join(', ')} refused (${why}); sent to ${took.length} of ${recipients.length}`, { channel: name, refused: [...refused] });
    },
  };
}
