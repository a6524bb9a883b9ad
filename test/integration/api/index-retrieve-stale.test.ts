/**
 * POST /api/v1/index/retrieve over a store holding stale keys (index keys an older decoder wrote that the
 * current one no longer implies; the re-index deletes them, docs/architecture.md "When the decoder
 * changes"): as /v1/search, it must not answer an entry under a value its record no longer has, for any
 * query kind, alone or with `and`/`or`. The upstream log, which never filed the entry there, is the oracle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { digestToBytes } from '../../../src/store/codec.ts';
import { entryTime } from '../../../src/store/index-values.ts';
import { Bucket, Field, indexKey, key, MARKER, u16, u64 } from '../../../src/store/keys.ts';
import { serveOnLoopback, type Loopback } from '../../helpers/loopback.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const ENTRIES = 40;
/** The entry the stale keys list, its own e-mail identity, and the entry whose key they lend it. */
const AT = 10;
const ALICE = 'alice@example.com';
const OTHER = 20;
/** An entry with a bundle posted for it, which lent it a digest its body does not have (bundles-post.ts). */
const LENT_TO = 30;
const EVIL_EMAIL = 'mallory@example.net';
const EVIL_URI = 'https://github.com/evil/api/.github/workflows/release.yml@refs/heads/main';
const STALE_DIGEST = `sha256:${'ab'.repeat(32)}`;
const LENT_DIGEST = `sha256:${'cd'.repeat(32)}`;

describe('index/retrieve over stale index keys', () => {
  let h: Harness;
  let server: Loopback;
  let m: any[];
  /** OTHER's certificate as a client sends it in `publicKey` (base64 PEM). */
  let otherKey: string;
  beforeAll(async () => {
    h = await harness({ api: 'v1', entries: ENTRIES, seed: 'index-retrieve-stale', inject: [{ at: AT, cert: { san: ALICE, issuer: 'https://accounts.google.com' } }, { at: OTHER, kind: 'hashedrekord', cert: { san: 'bob@example.com', issuer: 'https://accounts.google.com' } }] });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(ENTRIES));
    m = manifestOf(h.sim);
    const id = await h.store.logId('sim');
    const e = (await h.store.getEntry('sim', AT))!.record.entry;
    const other = (await h.store.getEntry('sim', OTHER))!;
    expect(e.signer?.san).toBe(ALICE);
    // What a decoder bug would have left: entry AT filed under identities, a digest and a key it does not have.
    const stale = (field: number, value: Uint8Array) => indexKey(field, value, entryTime(e), id, AT);
    const lentTo = (await h.store.getEntry('sim', LENT_TO))!.record.entry;
    await h.store.writeOps([
      ...[
        stale(Field.SAN, Buffer.from(EVIL_EMAIL)),
        stale(Field.SAN, Buffer.from(EVIL_URI)),
        stale(Field.DIGEST, digestToBytes(STALE_DIGEST)),
        stale(Field.FINGERPRINT, Buffer.from(other.record.entry.signer!.fingerprint.slice('sha256:'.length), 'hex')),
        indexKey(Field.DIGEST, digestToBytes(LENT_DIGEST), entryTime(lentTo), id, LENT_TO),
      ].map((k) => ({ type: 'put' as const, key: k, value: MARKER })),
      { type: 'put', key: key(Bucket.BUNDLE, u16(id), u64(LENT_TO)), value: Buffer.from('{}') },
    ]);
    const body = JSON.parse(Buffer.from(other.body).toString()) as { kind: string; spec: { signature: { publicKey: { content: string } } } };
    expect(body.kind).toBe('hashedrekord');
    otherKey = body.spec.signature.publicKey.content;
    server = await serveOnLoopback(createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] }));
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await h?.cleanup();
  });

  /** The entry indexes a server answers `query` with, over HTTP. */
  const ask = async (base: string, query: unknown): Promise<number[]> => {
    const res = await fetch(`${base}/api/v1/index/retrieve`, { method: 'POST', body: JSON.stringify(query), headers: { 'content-type': 'application/json' } });
    expect(res.status, JSON.stringify(query)).toBe(200);
    return ((await res.json()) as string[]).map((id) => m.findIndex((l) => l.uuid === id.slice(16))).sort((a, b) => a - b);
  };

  it('does not answer an entry under a hash, identity or key it no longer has, alone or with and/or', async () => {
    const own = m[AT].digests[0] as string;
    for (const [query, want] of [
      [{ hash: STALE_DIGEST }, []],
      [{ hash: STALE_DIGEST.slice('sha256:'.length) }, []],
      [{ hash: STALE_DIGEST, email: ALICE, operator: 'and' }, []],
      [{ hash: STALE_DIGEST, subject: ALICE, operator: 'and' }, []],
      [{ hash: STALE_DIGEST, email: 'nobody@example.com', operator: 'or' }, []],
      [{ email: EVIL_EMAIL }, []],
      [{ subject: EVIL_EMAIL }, []],
      [{ subject: EVIL_URI }, []],
      [{ subject: EVIL_URI, hash: own, operator: 'and' }, []],
      [{ publicKey: { format: 'x509', content: otherKey } }, [OTHER]],
      [{ publicKey: { format: 'x509', content: otherKey }, hash: STALE_DIGEST, operator: 'or' }, [OTHER]],
      // What the entry does have still finds it, with a stale value beside it in a union.
      [{ hash: own }, [AT]],
      [{ email: ALICE.toUpperCase() }, [AT]],
      [{ hash: own, email: ALICE, operator: 'and' }, [AT]],
      [{ hash: STALE_DIGEST, email: ALICE, operator: 'or' }, [AT]],
      [{ email: EVIL_EMAIL, hash: own, operator: 'or' }, [AT]],
    ] as const) {
      const mine = await ask(server.url, query);
      expect(mine, JSON.stringify(query)).toEqual(want);
      expect(mine, JSON.stringify(query)).toEqual(await ask(h.sim.url, query));
    }
  });

  it('keeps a digest a bundle posted for the entry lent it, as /v1/search does', async () => {
    expect(await ask(server.url, { hash: LENT_DIGEST })).toEqual([LENT_TO]);
    const res = await fetch(`${server.url}/v1/search?digest=${LENT_DIGEST}`);
    expect(((await res.json()) as { entries: Array<{ index: number }> }).entries.map((e) => e.index)).toEqual([LENT_TO]);
  });
});
