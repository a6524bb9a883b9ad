/**
 * POST /api/v1/index/retrieve by `publicKey`, over real HTTP, against a mirror of the simulator with rekord
 * entries signed by PGP, SSH, minisign and x509 keys (logged in Rekor's canonical form of each, as Rekor
 * stores them) beside its hashedrekord, dsse and intoto entries. A key is found however the client writes
 * it (armor headers, binary, CRLF, authorized_keys options and comments, a minisign key file), and only
 * where Rekor's index files it: not dsse or intoto entries, which Rekor files under `sha256:<key hash>`.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnLoopback, type Loopback } from '../../helpers/loopback.ts';
import { createApp } from '../../../src/api/app.ts';
import { canonicalPgpKeys } from '../../../src/entries/rekor-pki/pgp.ts';
import { createLogger } from '../../../src/logger.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import type { InjectSpec } from '../../sim/inject.ts';

const ENTRIES = 200;
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const sshString = (b: Uint8Array) => Buffer.concat([Buffer.from([0, 0, b.length >> 8, b.length & 0xff]), b]);

/** An Ed25519 key from node:crypto, as its raw 32 bytes. */
function ed25519Raw(): Buffer {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

describe('index/retrieve by public key, in each format Rekor reads', () => {
  let h: Harness;
  let server: Loopback;
  let url: string;
  let m: any[];
  // SSH (RFC 8709): the blob, and the canonical authorized_keys line Rekor stores.
  const sshBlob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(ed25519Raw())]);
  const sshCanonical = `ssh-ed25519 ${b64(sshBlob)}\n`;
  // minisign: algorithm, key ID, key; the canonical form is their base64.
  const minisign = b64(Buffer.concat([Buffer.from('Ed'), randomBytes(8), ed25519Raw()]));
  // PGP: a key exported by gpg (two user IDs): Rekor has logged it in either order of them.
  const asc = readFileSync(new URL('../../fixtures/keys/alice-pgp.asc', import.meta.url));
  const pgpForms = canonicalPgpKeys(asc);
  const x509 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const at = { ssh: [20, 21], pgp0: [30], pgp1: [31], minisign: [40], x509: [50], managedHashedrekord: [63] };
  beforeAll(async () => {
    expect(pgpForms).toHaveLength(2);
    const inject: InjectSpec[] = [
      ...at.ssh.map((i) => ({ at: i, rekord: { format: 'ssh' as const, content: b64(sshCanonical) } })),
      { at: 30, rekord: { format: 'pgp', content: b64(pgpForms[0]!) } },
      { at: 31, rekord: { format: 'pgp', content: b64(pgpForms[1]!) } },
      { at: 40, rekord: { format: 'minisign', content: b64(minisign) } },
      { at: 50, rekord: { format: 'x509', content: b64(x509) } },
      // One managed key ("key": "ecdsa") on every kind.
      { at: 61, kind: 'dsse', key: 'ecdsa' },
      { at: 62, kind: 'intoto', key: 'ecdsa' },
      { at: 63, kind: 'hashedrekord', key: 'ecdsa' },
    ];
    h = await harness({ api: 'v1', entries: ENTRIES, seed: 'index-retrieve-keys', inject });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(ENTRIES));
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    server = await serveOnLoopback(app);
    url = server.url;
    m = manifestOf(h.sim);
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await h.cleanup();
  });

  const ask = async (base: string, query: unknown) => {
    const res = await fetch(`${base}/api/v1/index/retrieve`, { method: 'POST', body: JSON.stringify(query), headers: { 'content-type': 'application/json' } });
    const body: unknown = await res.json();
    return { status: res.status, body, indexes: res.status === 200 ? (body as string[]).map((id) => m.findIndex((l) => l.uuid === id.slice(16))).sort((a, b) => a - b) : [] };
  };
  const byKey = (format: string, content: string | Uint8Array) => ask(url, { publicKey: { format, content: b64(content) } });

  it('finds an SSH key written as a client has it: comment, options, other lines, any type field', async () => {
    const line = `ssh-ed25519 ${b64(sshBlob)} bob@example.com`;
    for (const text of [sshCanonical, line, `${line}\r\n`, `# deploy key\n\n${line}\n`, `from="10.0.0.1,10.0.0.2",no-pty ${line}`, `ssh-rsa ${b64(sshBlob)}`]) {
      expect(await byKey('ssh', text), JSON.stringify(text)).toMatchObject({ status: 200, indexes: at.ssh });
    }
    const other = `ssh-ed25519 ${b64(Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(ed25519Raw())]))}\n`;
    expect(await byKey('ssh', other)).toMatchObject({ status: 200, indexes: [] });
    expect((await byKey('ssh', 'ssh-ed25519 AAAA not-a-key')).status).toBe(400);
  });

  it('finds a PGP key as gpg exports it, armored or binary, under either order of its user IDs', async () => {
    const gpgBinary = readFileSync(new URL('../../fixtures/keys/alice-pgp.gpg', import.meta.url));
    for (const key of [asc, gpgBinary, Buffer.from(asc.toString().replace(/\n/g, '\r\n')), Buffer.from(pgpForms[1]!)]) {
      expect(await byKey('pgp', key)).toMatchObject({ status: 200, indexes: [...at.pgp0, ...at.pgp1] });
    }
    // The same key as x509 is not a key Rekor reads; a secret key block is refused, not looked up.
    expect((await byKey('x509', asc)).status).toBe(400);
    expect((await byKey('pgp', asc.toString().replace(/PUBLIC KEY BLOCK/g, 'PRIVATE KEY BLOCK'))).status).toBe(400);
    expect((await byKey('pgp', 'not a key')).status).toBe(400);
  });

  it('finds a minisign key from its key file or its base64, and an x509 key from its PEM', async () => {
    for (const text of [`untrusted comment: minisign public key\n${minisign}\n`, minisign]) {
      expect(await byKey('minisign', text)).toMatchObject({ status: 200, indexes: at.minisign });
    }
    expect(await byKey('x509', x509)).toMatchObject({ status: 200, indexes: at.x509 });
    expect(await byKey('x509', `\n\n${x509}\n\n`)).toMatchObject({ status: 200, indexes: at.x509 });
  });

  it('reads key content as Go does: non-zero base64 padding bits ignored, not refused', async () => {
    const spelled = b64(x509);
    const pad = spelled.length - spelled.replace(/=+$/, '').length;
    expect(pad).toBeGreaterThan(0);
    // The character before the padding carries 2 (one '=') or 4 (two) bits that encode nothing.
    const last = spelled.length - pad - 1;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const odd = `${spelled.slice(0, last)}${alphabet[alphabet.indexOf(spelled[last]!) | 1]}${spelled.slice(last + 1)}`;
    expect(odd).not.toBe(spelled);
    expect(Buffer.from(odd, 'base64')).toEqual(Buffer.from(x509));
    expect(await ask(url, { publicKey: { format: 'x509', content: odd } })).toMatchObject({ status: 200, indexes: at.x509 });
  });

  it('finds a key where Rekor files it: hashedrekord yes, dsse and intoto no, as the upstream log answers', async () => {
    const entry = Object.values((await (await fetch(`${url}/api/v1/log/entries?logIndex=63`)).json()) as object)[0] as { body: string };
    const pem = Buffer.from(JSON.parse(Buffer.from(entry.body, 'base64').toString()).spec.signature.publicKey.content as string, 'base64');
    const q = { publicKey: { format: 'x509', content: b64(pem) } };
    const mine = await ask(url, q);
    expect(mine).toMatchObject({ status: 200, indexes: at.managedHashedrekord });
    expect(mine.body).toEqual(((await ask(h.sim.url, q)).body as string[]).sort());
  });

  it('refuses a format Rekor does not take (422, its schema\'s enum), and tuf roots, which the mirror does not index (400)', async () => {
    for (const format of ['pkcs7', 'X509']) {
      const r = await byKey(format, x509);
      expect(r.status, format).toBe(422);
      expect(r.body, format).toEqual({ code: 605, message: 'publicKey.format in body should be one of [pgp x509 minisign ssh tuf]' });
    }
    const tuf = await byKey('tuf', x509);
    expect(tuf.status).toBe(400);
    expect((tuf.body as { message: string }).message).toMatch(/tuf roots are not indexed/);
  });
});
