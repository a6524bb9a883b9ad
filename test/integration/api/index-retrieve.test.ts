/**
 * POST /api/v1/index/retrieve against the log it mirrors: the simulator answers the same query as Rekor
 * does (pkg/api/index.go: every matching entry ID, `or` a union, `and` an intersection), so for any query
 * made of an entry's hash, email, subject or key the mirror's set must be the upstream one. One signer
 * has 1,100 entries, more than a page of the store's index, so a truncated set shows.
 */
import fc from 'fast-check';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { type IndexLookup, rekorHash, retrieveEntries } from '../../../src/api/index-retrieve.ts';
import { digestToBytes } from '../../../src/store/codec.ts';
import { indexValues, normaliseIdentity } from '../../../src/store/index-values.ts';
import { Field } from '../../../src/store/keys.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import type { InjectSpec } from '../../sim/inject.ts';

const FLOOD = 'flood@example.com';
const ENTRIES = 1300;
/** A workflow URI in mixed case, its lower-case twin and an upper-case one (other signers), and a mixed-case e-mail address. */
const MIXED = 'https://github.com/Acme-Corp/Widget/.github/workflows/Release.yml@refs/tags/V1.2';
const SPELLED = { [MIXED]: [40, 41, 42], [MIXED.toLowerCase()]: [43], [MIXED.toUpperCase()]: [44] };
const MIXED_EMAIL = 'Alice.Smith@Example.COM';
/**
 * Self-made certificates naming several identities (Rekor v1 logs them): Rekor files such an entry under
 * every SAN, so a lookup by any of them finds it. The manifest gives the primary SAN only.
 */
const GADGET = 'https://github.com/Acme-Corp/Gadget/.github/workflows/ci.yml@refs/heads/main';
const SEVERAL = new Map<number, [string, ...string[]]>([
  [47, ['Mallory@Example.net', 'Bob.Jones@Example.COM', GADGET]],
  [48, ['mallory@example.net', 'carol@example.org', 'Carol@Example.org']],
]);

describe('Rekor-compatible index/retrieve, compared with the upstream log', () => {
  let h: Harness;
  let app: Hono;
  let m: any[];
  /** Each hashedrekord entry's public key (base64 PEM), as a client would send it in `publicKey`. */
  const keys = new Map<number, string>();
  beforeAll(async () => {
    const inject: InjectSpec[] = Array.from({ length: 1100 }, (_, i) => ({ at: 150 + i, cert: { san: FLOOD, issuer: 'https://accounts.google.com' } }));
    const gha = 'https://token.actions.githubusercontent.com';
    for (const [san, at] of Object.entries(SPELLED)) for (const i of at) inject.push({ at: i, kind: i === 42 ? 'dsse' : 'hashedrekord', cert: { san, issuer: gha } });
    inject.push({ at: 45, cert: { san: MIXED_EMAIL, issuer: 'https://accounts.google.com' } }, { at: 46, kind: 'intoto', cert: { san: MIXED_EMAIL, issuer: 'https://accounts.google.com' } });
    for (const [at, [san, ...sans]] of SEVERAL) inject.push({ at, kind: at === 48 ? 'dsse' : 'hashedrekord', cert: { san, sans, issuer: 'https://accounts.google.com' } });
    h = await harness({ api: 'v1', entries: ENTRIES, seed: 'index-retrieve', inject });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(ENTRIES));
    app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    m = manifestOf(h.sim);
    for (const i of [0, 1, 2, 3, 5, 8, 13, 21, 34, 150, 151, 700, 1249, 1250, 1299]) {
      const e = Object.values((await (await app.request(`/api/v1/log/entries?logIndex=${i}`)).json()) as object)[0] as { body: string };
      const body = JSON.parse(Buffer.from(e.body, 'base64').toString()) as { kind: string; spec: { signature?: { publicKey?: { content: string } } } };
      if (body.kind === 'hashedrekord' && body.spec.signature?.publicKey) keys.set(i, body.spec.signature.publicKey.content);
    }
  }, 120_000);
  afterAll(() => h.cleanup());

  const ask = async (base: string | Hono, query: unknown): Promise<{ status: number; ids: string[] }> => {
    const init = { method: 'POST', body: JSON.stringify(query), headers: { 'content-type': 'application/json' } };
    const res = typeof base === 'string' ? await fetch(`${base}/api/v1/index/retrieve`, init) : await base.request('/api/v1/index/retrieve', init);
    const body = (await res.json());
    return { status: res.status, ids: res.status === 200 ? [...(body as string[])].sort() : [] };
  };

  it('finds every entry of a signer with more entries than one index page', async () => {
    const mine = await ask(app, { email: FLOOD });
    expect(mine.status).toBe(200);
    expect(mine.ids).toHaveLength(1100);
    expect(mine.ids).toEqual((await ask(h.sim.url, { email: FLOOD })).ids);
    // `and` with the oldest of them: the intersection is that one entry, however far down the signer's list.
    const oldest = m[150];
    expect(oldest.san).toBe(FLOOD);
    const both = await ask(app, { email: FLOOD, hash: oldest.digests[0], operator: 'and' });
    expect(both.ids.map((id) => id.slice(16))).toEqual([oldest.uuid]);
  });

  it('refuses a union it cannot read whole, and intersects a value it cannot read whole through the others', async () => {
    const flood: IndexLookup = { what: 'email', field: 'SAN', values: [Buffer.from(FLOOD)] };
    const oldest = m[150];
    const hash: IndexLookup = { what: 'hash', field: 'DIGEST', values: [digestToBytes(oldest.digests[0])] };
    const retrieveIndexes = async (...args: Parameters<typeof retrieveEntries>) => (await retrieveEntries(...args)).map((e) => e.index);
    // Reading at most 500 index keys a value, the signer's 1,100 entries are too many to list...
    await expect(retrieveIndexes(h.store, 'sim', [flood, hash], 'or', 500)).rejects.toThrow(/more than 500 index entries are filed under email/);
    await expect(retrieveIndexes(h.store, 'sim', [flood], 'and', 500)).rejects.toThrow(/filed under email/);
    // ...but not too many to check the hash's entries against: the same answer as reading them all.
    expect(await retrieveIndexes(h.store, 'sim', [flood, hash], 'and', 500)).toEqual([150]);
    expect(await retrieveIndexes(h.store, 'sim', [flood, hash], 'and')).toEqual([150]);
    const other = m.find((l) => l.san !== FLOOD && l.kind === 'hashedrekord')!;
    expect(await retrieveIndexes(h.store, 'sim', [flood, { ...hash, values: [digestToBytes(other.digests[0])] }], 'and', 500)).toEqual([]);
  });

  it('agrees with a naive reading of every entry, for `and` and `or` and any scanned bound', async () => {
    // The oracle: each entry read on its own, and what index-values.ts files it under.
    const filed = new Map<string, Set<number>>();
    const at = (field: number, v: Uint8Array) => `${field}:${Buffer.from(v).toString('hex')}`;
    for (let i = 0; i < ENTRIES; i++) {
      const got = await h.store.getEntry('sim', i);
      for (const [f, v] of indexValues(got!.record.entry, true)) {
        const k = at(f, v);
        if (!filed.has(k)) filed.set(k, new Set());
        filed.get(k)!.add(i);
      }
    }
    const sans = [...new Set(m.flatMap((l) => (l.san ? [l.san as string] : [])))];
    const lookup = fc.oneof(
      fc.nat(ENTRIES - 1).map((i): IndexLookup => ({ what: 'hash', field: 'DIGEST', values: [digestToBytes(m[i].digests[0])] })),
      fc.constantFrom(...sans).map((san): IndexLookup => ({ what: 'subject', field: 'SAN', values: [Buffer.from(normaliseIdentity(san))] })),
      fc.constantFrom(FLOOD, 'nobody@example.com').map((san): IndexLookup => ({ what: 'email', field: 'SAN', values: [Buffer.from(san)] })),
    );
    // Index pages are 1,000 keys: a bound is reached only at a page's end, so 1 to 1,000 read one page.
    const complete = (n: number, max: number) => n <= 1000 * Math.ceil(max / 1000);
    await fc.assert(
      fc.asyncProperty(fc.array(lookup, { minLength: 1, maxLength: 4 }), fc.constantFrom('and' as const, 'or' as const), fc.constantFrom(1, 500, 1000, 10_000), async (ls, op, max) => {
        const sets = ls.map((l) => filed.get(at(Field[l.field], l.values[0]!)) ?? new Set<number>());
        const whole = sets.map((s) => complete(s.size, max));
        const refused = op === 'or' ? whole.includes(false) : !whole.includes(true);
        const got = retrieveEntries(h.store, 'sim', ls, op, max).then((r) => r.map((e) => e.index).sort((a, b) => a - b));
        if (refused) return void (await expect(got).rejects.toThrow(/index entries are filed under/));
        const want = op === 'or' ? [...new Set(sets.flatMap((s) => [...s]))] : [...sets[0]!].filter((i) => sets.every((s) => s.has(i)));
        expect(await got).toEqual(want.sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });

  it('matches e-mail addresses and subjects in any case, as Rekor lower-cases both sides, and /v1/search keeps URIs as signed', async () => {
    const index = (ids: string[]) => ids.map((id) => m.findIndex((l) => l.uuid === id.slice(16))).sort((a, b) => a - b);
    for (const v of [MIXED, MIXED.toLowerCase(), MIXED.toUpperCase(), MIXED.replace('Acme-Corp', 'ACME-corp')]) {
      for (const q of [{ subject: v }, { subject: v, hash: m[41].digests[0], operator: 'and' }]) {
        const mine = await ask(app, q);
        expect(mine.status, JSON.stringify(q)).toBe(200);
        expect(index(mine.ids), JSON.stringify(q)).toEqual(q.hash ? [41] : [40, 41, 42, 43, 44]);
        expect(mine.ids, JSON.stringify(q)).toEqual((await ask(h.sim.url, q)).ids);
      }
    }
    for (const v of [MIXED_EMAIL, MIXED_EMAIL.toLowerCase(), MIXED_EMAIL.toUpperCase()]) {
      for (const q of [{ email: v }, { subject: v }]) {
        const mine = await ask(app, q);
        expect(index(mine.ids)).toEqual([45, 46]);
        expect(mine.ids).toEqual((await ask(h.sim.url, q)).ids);
      }
    }
    expect((await ask(app, { subject: MIXED.replace('Widget', 'Widgets') })).ids).toEqual([]);
    // The mirror's own identity search is unchanged: URIs as signed, e-mail addresses in any case.
    for (const [san, at] of Object.entries(SPELLED)) {
      const found = (await (await app.request(`/v1/search?identity=${encodeURIComponent(san)}`)).json()) as { entries: Array<{ index: number }> };
      expect(found.entries.map((e) => e.index).sort((a, b) => a - b)).toEqual(at);
    }
    const byEmail = (await (await app.request(`/v1/search?identity=${encodeURIComponent(MIXED_EMAIL.toUpperCase())}`)).json()) as { entries: Array<{ index: number }> };
    expect(byEmail.entries.map((e) => e.index).sort((a, b) => a - b)).toEqual([45, 46]);
  });

  it('finds an entry whose certificate names several identities under each of them, as Rekor files it', async () => {
    const index = (ids: string[]) => ids.map((id) => m.findIndex((l) => l.uuid === id.slice(16))).sort((a, b) => a - b);
    expect(m[47].san).toBe(GADGET);
    for (const [q, want] of [
      [{ email: 'bob.jones@example.com' }, [47]],
      [{ subject: GADGET.toUpperCase() }, [47]],
      [{ email: 'MALLORY@example.NET' }, [47, 48]],
      [{ email: 'carol@example.org' }, [48]],
      [{ email: 'carol@example.org', operator: 'and', hash: m[48].digests[0] as string }, [48]],
    ] as const) {
      const mine = await ask(app, q);
      expect(index(mine.ids), JSON.stringify(q)).toEqual(want);
      expect(mine.ids, JSON.stringify(q)).toEqual((await ask(h.sim.url, q)).ids);
    }
  });

  it('reads a hash as Rekor does: bare hex is named by its length', async () => {
    const d = m[4].digests[0] as string;
    expect(rekorHash(d.slice(7).toUpperCase())).toBe(d);
    expect(rekorHash('ab'.repeat(64))).toBe(`sha512:${'ab'.repeat(64)}`);
    // 96 bare digits (sha384) are not in Rekor's pattern: refused by the schema before any lookup.
    const bare384 = await app.request('/api/v1/index/retrieve', { method: 'POST', body: JSON.stringify({ hash: 'ab'.repeat(48) }), headers: { 'content-type': 'application/json' } });
    expect(bare384.status).toBe(422);
    expect(((await bare384.json()) as { code: number }).code).toBe(604);
    // 128 bare digits are an sha512 digest (Rekor's pattern allows them), not a malformed hash.
    const bare512 = await ask(app, { hash: 'ab'.repeat(64) });
    expect(bare512.status).toBe(200);
    expect(bare512.ids).toEqual([]);
    expect((await ask(app, { hash: 'ab'.repeat(64), email: FLOOD })).ids).toHaveLength(1100);
    // sha1 is Rekor's too, but the mirror does not index it: refused, not answered with a false "none".
    for (const hash of ['ab'.repeat(20), `sha1:${'ab'.repeat(20)}`]) {
      const res = await app.request('/api/v1/index/retrieve', { method: 'POST', body: JSON.stringify({ hash }), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/sha1 digests are not indexed/);
    }
    // Outside Rekor's pattern (a length no algorithm has, a prefix on the wrong length, another algorithm,
    // a prefix in upper case): the schema refuses it, 422.
    for (const hash of ['ab'.repeat(33), `sha512:${'ab'.repeat(32)}`, 'md5:00', `SHA256:${'ab'.repeat(32)}`]) expect((await ask(app, { hash })).status, hash).toBe(422);
  });

  it('answers as the upstream log does for hashes, emails, subjects and keys, with and/or', async () => {
    const hashForms = (d: string) => [d, d.slice('sha256:'.length), d.toUpperCase().replace('SHA256:', 'sha256:'), d.slice('sha256:'.length).toUpperCase()];
    const at = fc.constantFrom(...[...keys.keys()], 4, 6, 40, 42, 43, 44, 45, 46, 47, 48, 151, 152, 900, 1100, 1251, 1280);
    /** Any SAN of entry i: every one its certificate names. */
    const sanAt = (i: number, email: boolean) => fc.constantFrom(...(SEVERAL.get(i) ?? [m[i].san as string]).filter((san) => !email || /^[^:/]+@/.test(san)));
    // Each letter in either case: Rekor folds both sides, so every spelling names the same entries.
    const anyCase = (v: string) => fc.array(fc.boolean(), { minLength: v.length, maxLength: v.length }).map((up) => Array.from(v, (c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
    const query = fc.record(
      {
        hash: fc.tuple(at, fc.nat(3)).map(([i, f]) => hashForms(m[i].digests[0] as string)[f]!),
        email: at.filter((i) => /^[^:/]+@/.test(m[i].san ?? '') || SEVERAL.has(i)).chain((i) => sanAt(i, true).chain(anyCase)),
        subject: at.filter((i) => m[i].san !== null).chain((i) => sanAt(i, false).chain(anyCase)),
        publicKey: fc.constantFrom(...keys.values()).map((content) => ({ format: 'x509', content })),
        operator: fc.constantFrom('and', 'or'),
      },
      { requiredKeys: [] },
    ).filter((q) => Object.keys(q).some((k) => k !== 'operator'));
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const [mine, upstream] = await Promise.all([ask(app, q), ask(h.sim.url, q)]);
        expect(upstream.status, JSON.stringify(q)).toBe(200);
        expect(mine.status, JSON.stringify(q)).toBe(200);
        expect(mine.ids, JSON.stringify(q)).toEqual(upstream.ids);
      }),
      { numRuns: 150 },
    );
  });
});
