/**
 * What a certificate anyone can log makes a notification say, on every channel, against real receivers on
 * 127.0.0.1 (Hono for the webhook, Slack and Alertmanager; smtp-server for email). The finding is the one the
 * monitor raises for a real self-made certificate: SANs carrying CR, LF, ESC and Slack markup, a UTF8String
 * claim carrying a bidi override and a zero-width space, and SANs 20,000 characters long. People's text
 * (email, Slack, Alertmanager annotations) shows those characters as escapes and stays bounded, with the cut
 * said; what goes to systems (the webhook, the JSON copy in an email) is the finding exactly.
 */
/* eslint-disable no-control-regex -- control characters are what these tests look for */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRekorV1Body } from '../../../src/entries/decode.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { evaluateEntry } from '../../../src/monitor/evaluate.ts';
import type { Finding } from '../../../src/monitor/finding.ts';
import { alertmanagerChannel, EMAIL_JSON_MAX_BYTES, emailChannel, slackChannel, webhookChannel } from '../../../src/notify/channels.ts';
import { MESSAGE_MAX } from '../../../src/notify/text.ts';
import { createCA, createLeaf } from '../../sim/certs.ts';
import { finding } from './finding.ts';
import { startReceivers, type Receivers } from './receivers.ts';

/** Characters no person should get raw: controls, bidi, zero-width and other invisible ones. */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;
const T = Date.parse('2026-11-25T10:00:00Z') / 1000;

/** The finding the monitor raises for an entry signed with a certificate naming `sans`, with `ref` as its source ref claim. */
function hostileFinding(san: string, sans: string[], ref: string): Finding {
  const ca = createCA('sigstore-intermediate', T - 86400, T + 86400);
  const { der } = createLeaf(ca, { san, sans, issuer: 'https://token.actions.githubusercontent.com', extensions: { sourceRepositoryRef: ref } }, T - 60);
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`;
  const body = JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: { data: { hash: { algorithm: 'sha256', value: '1'.repeat(64) } }, signature: { content: Buffer.from('sig').toString('base64'), publicKey: { content: Buffer.from(pem).toString('base64') } } },
  });
  const e = decodeRekorV1Body(new Uint8Array(Buffer.from(body)), { log: 'rekor', index: 9, integratedTime: T });
  const r = checkRules([{ name: 'acme.yaml', text: `rules:\n  - id: acme-release\n    severity: high\n    watch: { identities: [{ regex: 'https://github[.]com/acme/.*' }] }\n    expect: { sourceRefs: ['refs/tags/*'] }\n` }]);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const [f] = evaluateEntry(r.ruleSet, e, T + 100);
  if (!f) throw new Error('no finding');
  return f;
}

const WATCHED = 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1';
/** SANs with a line break that forges a line, an ESC sequence, and Slack markup. */
const FORGED = `https://github.com/acme/api/x\r\nidentity: https://github.com/acme/api/ok\u001b[8m<!here> <https://evil.example|ack> *urgent*`;
/** A claim value that reorders what is read and hides a character. */
const REF = 'refs/heads/\u202emain\u202c\u200b';

let r: Receivers;
beforeAll(async () => {
  r = await startReceivers({ '/hook': 'hook', '/slack': 'slack', '/am/api/v2/alerts': 'alerts' });
});
afterAll(() => r.close());

const qp = (s: string) => Buffer.from(s.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
/** RFC 2047 encoded words, as nodemailer writes them (Q or B), decoded; the space between two of them is not text (§6.2). */
const words = (h: string) =>
  h.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, w: string) => (enc.toUpperCase() === 'B' ? Buffer.from(w, 'base64') : qp(w.replace(/_/g, ' '))).toString('utf8'));

/** A received message's header lines (as sent, and unfolded and decoded) and its text, decoded from its transfer encoding, with LF line ends. */
function parseMail(raw: string): { headers: string[]; headerLines: string[]; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  const body = raw.slice(split + 4);
  const headerLines = head.split('\r\n');
  const headers = head.replace(/\r\n[ \t]+/g, ' ').split('\r\n').map(words);
  const cte = headers.find((h) => /^content-transfer-encoding:/i.test(h))?.split(':')[1]?.trim().toLowerCase();
  const bytes =
    cte === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : cte === 'quoted-printable'
        ? qp(body)
        : Buffer.from(body, 'latin1');
  return { headers, headerLines, text: bytes.toString('utf8').replace(/\r\n/g, '\n') };
}

const send = async (f: Finding) => {
  for (const c of [webhookChannel(0, `${r.base}/hook`, 'shared-secret'), slackChannel(0, `${r.base}/slack`), alertmanagerChannel(0, `${r.base}/am`), emailChannel(0, r.smtpUrl, 'tlogwatch@example.org', ['security@example.org'], 10_000)]) await c.send(f);
  const last = (name: string) => r.received[name]!.at(-1)!;
  return { hook: last('hook'), slack: last('slack'), alert: last('alerts'), mail: r.mails.at(-1)! };
};

describe('a finding quoting a hostile certificate', () => {
  const f = hostileFinding(WATCHED, [FORGED], REF);

  it('is what the monitor raises: the message quotes the forged SAN and the claim raw', () => {
    expect(f.message).toContain('\r\nidentity: https://github.com/acme/api/ok\u001b[8m<!here>');
    expect(f.message).toContain('\u202emain\u202c\u200b');
    expect(f.message).toContain('(the certificate names 2 identities: ');
  });

  it('webhook: the body is the finding exactly, and the HMAC is over the bytes received', async () => {
    const { hook } = await send(f);
    expect(hook.headers['x-tlogwatch-signature']).toBe(`sha256=${createHmac('sha256', 'shared-secret').update(hook.body).digest('hex')}`);
    expect(JSON.parse(hook.text)).toEqual({ type: 'tlogwatch.finding', finding: f });
    // Even a lone surrogate (JSON.stringify escapes it) arrives exact, and signed as received.
    const odd = { ...f, message: `${f.message} \ud800` };
    const { hook: h2 } = await send(odd);
    expect(h2.headers['x-tlogwatch-signature']).toBe(`sha256=${createHmac('sha256', 'shared-secret').update(h2.body).digest('hex')}`);
    expect((JSON.parse(h2.text) as { finding: Finding }).finding.message).toBe(odd.message);
  });

  it('Slack: controls and bidi shown as escapes, no line the certificate wrote, markup escaped, verbatim', async () => {
    const { slack } = await send(f);
    const body = JSON.parse(slack.text) as { text: string; blocks: Array<{ text: { type: string; text: string; verbatim?: boolean } }> };
    const block = body.blocks[0]!.text;
    expect(block).toMatchObject({ type: 'mrkdwn', verbatim: true });
    for (const t of [body.text, block.text]) {
      expect(t).not.toMatch(/[\r\u001b\u202e\u202c\u200b]/u);
      expect(t).toContain('x\\u{d}\\u{a}identity: https://github.com/acme/api/ok\\u{1b}[8m&lt;!here&gt; &lt;https://evil.example|ack&gt; *urgent*');
      expect(t).toContain('refs/heads/\\u{202e}main\\u{202c}\\u{200b}');
      expect(t).not.toMatch(/[<>]/);
    }
    // The only line breaks are tlogwatch's own: title, message, identity, digest.
    expect(body.text.split('\n').map((l) => l.split(':')[0])).toEqual(['[HIGH] acme-release', 'acme-release', 'identity', 'digest']);
  });

  it('Alertmanager: annotations shown as escapes; labels hold no certificate text', async () => {
    const { alert } = await send(f);
    const [a] = JSON.parse(alert.text) as Array<{ labels: Record<string, string>; annotations: Record<string, string> }>;
    expect(a!.labels).toEqual({ alertname: 'TlogwatchFinding', rule: 'acme-release', severity: 'high', log: 'rekor', finding: f.id });
    for (const v of Object.values(a!.annotations)) expect(v).not.toMatch(HIDDEN);
    expect(a!.annotations['description']).toContain('refs/heads/\\u{202e}main\\u{202c}\\u{200b}');
    expect(a!.annotations['identity']).toBe(WATCHED);
  });

  it('email: the text shows escapes and no forged line, the JSON copy parses back to the finding exactly', async () => {
    const { mail } = await send(f);
    expect(mail.rcpt).toEqual(['security@example.org']);
    const { text } = parseMail(mail.raw);
    expect(text).not.toMatch(/[\r\u001b\u202e\u202c\u200b]/u);
    const [message, ...rest] = text.split('\n\n');
    expect(message).toBe(f.message.replace(/[\r\n\u001b\u202e\u202c\u200b]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`));
    expect(JSON.parse(rest.join('\n\n'))).toEqual(f);
  });

  it('email: a CR or LF in the title adds no header, and bidi in it is shown as an escape', async () => {
    // The title is the rule, the log and the index, from the configuration; forced here to see what nodemailer does.
    const forged = { ...finding, rule: 'acme\r\nBcc: evil@example.org\r\nX-Injected: yes\u202egpj.exe' };
    const { mail } = await send(forged);
    expect(mail.rcpt).toEqual(['security@example.org']);
    const { headers } = parseMail(mail.raw);
    expect(headers.filter((h) => /^(bcc|x-injected):/i.test(h))).toEqual([]);
    const subject = headers.find((h) => h.startsWith('Subject:'))!;
    expect(subject).toBe('Subject: tlogwatch [HIGH] acme\\u{d}\\u{a}Bcc: evil@example.org\\u{d}\\u{a}X-Injected: yes\\u{202e}gpj.exe: rekor#100');
  });

  it('email: a very long title stays within the 998-character line of RFC 5322 §2.1.1', async () => {
    const { mail } = await send({ ...finding, rule: 'r'.repeat(5000) });
    const { headerLines, headers } = parseMail(mail.raw);
    expect(Math.max(...headerLines.map((l) => l.length))).toBeLessThanOrEqual(998);
    expect(headers.find((h) => h.startsWith('Subject:'))).toMatch(/ … \[\d+ more characters cut; the whole finding: GET \/v1\/findings\/[0-9a-f]{32}\]$/);
  });
});

describe('a finding quoting SANs of 20,000 characters', () => {
  // Nine SANs of 20,000 characters: as many as a certificate within Rekor v1's 256 KiB key limit holds.
  const long = (i: number) => `https://github.com/acme/${String(i).padStart(3, '0')}/${'a'.repeat(20_000 - 28)}`;
  const f = hostileFinding(long(0), Array.from({ length: 8 }, (_, i) => long(i + 1)), `refs/heads/${'b'.repeat(4000)}`);
  const cut = /… \[\d+ more characters cut; the whole finding: GET \/v1\/findings\/[0-9a-f]{32}\]/;

  it('has a message of over 100,000 characters', () => {
    expect(f.message.length).toBeGreaterThan(100_000);
  });

  it('Slack: the section block stays within 3,000 characters and the text within 40,000, saying what was cut', async () => {
    const { slack } = await send(f);
    const body = JSON.parse(slack.text) as { text: string; blocks: Array<{ text: { text: string } }> };
    expect(body.blocks[0]!.text.text.length).toBeLessThanOrEqual(3000);
    expect(body.text.length).toBeLessThanOrEqual(40_000);
    expect(body.blocks[0]!.text.text).toMatch(cut);
  });

  it('Alertmanager: the description is bounded and says what was cut; the identity too', async () => {
    const { alert } = await send(f);
    const [a] = JSON.parse(alert.text) as Array<{ annotations: Record<string, string> }>;
    expect(a!.annotations['description']!.length).toBeLessThanOrEqual(MESSAGE_MAX);
    expect(a!.annotations['description']).toMatch(cut);
    expect(a!.annotations['identity']!.length).toBeLessThan(1000);
    expect(a!.annotations['identity']).toMatch(cut);
  });

  it('email: the text part is bounded, and the JSON copy is whole when it fits, named when it does not', async () => {
    const { mail } = await send(f);
    const { text } = parseMail(mail.raw);
    const [message, ...rest] = text.split('\n\n');
    expect(message!.length).toBeLessThanOrEqual(MESSAGE_MAX);
    expect(message).toMatch(cut);
    expect(JSON.parse(rest.join('\n\n'))).toEqual(f);
    // Evidence past the bound (a DSSE entry with many self-made certificates): the mail names the finding.
    const huge = { ...f, evidence: { blob: 'x'.repeat(EMAIL_JSON_MAX_BYTES) } };
    const { mail: m2 } = await send(huge);
    expect(m2.raw.length).toBeLessThan(64 * 1024);
    expect(parseMail(m2.raw).text).toMatch(new RegExp(`\\(The finding as JSON is \\d+ bytes, over the ${EMAIL_JSON_MAX_BYTES} an email carries: GET /v1/findings/${f.id}\\.\\)`));
  });

  it('webhook: the body is the whole finding, exact', async () => {
    const { hook } = await send(f);
    expect(JSON.parse(hook.text)).toEqual({ type: 'tlogwatch.finding', finding: f });
  });
});
