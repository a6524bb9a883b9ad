/**
 * The search selectors (src/api/selectors.ts) against what the store indexes (indexValues): for every
 * selector, the value an entry's own signer or digest carries must look up a key the entry was indexed
 * under, and match the entry as a filter; and every selector is a query parameter, documented in
 * /openapi.json, with a `tlogwatch search` flag.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Digest, Entry, Signer } from '../../../src/entries/types.ts';
import { buildOpenApi } from '../../../src/api/openapi.ts';
import { SearchQuery } from '../../../src/api/params.ts';
import { SELECTORS, normaliseDigest, type SelectorParam } from '../../../src/api/selectors.ts';
import { QUERY_PARAMS } from '../../../src/commands/search.ts';
import { indexValues } from '../../../src/store/index-values.ts';
import { Field } from '../../../src/store/keys.ts';

/** The test's own reading of where each selector's value sits in an entry (the oracle). */
const VALUE_OF: Record<SelectorParam, (e: Entry, s: Signer) => string | undefined> = {
  digest: (e) => e.digests[0],
  fingerprint: (_e, s) => s.fingerprint,
  identity: (_e, s) => s.san,
  repository: (_e, s) => s.fulcio?.sourceRepositoryURI,
  owner: (_e, s) => s.fulcio?.sourceRepositoryOwnerURI,
  buildSigner: (_e, s) => s.fulcio?.buildSignerURI,
  issuer: (_e, s) => s.issuer,
};

const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString('hex'));
const uri = fc.webUrl({ withQueryParameters: false, withFragments: false });
const san = fc.oneof(uri, fc.emailAddress(), fc.constantFrom('Alice@Example.COM', 'https://github.com/Acme/a/.github/workflows/r.yml@refs/tags/v1'));
const signer: fc.Arbitrary<Signer> = fc.record(
  {
    type: fc.constant('x509' as const),
    fingerprint: hex(32).map((h) => `sha256:${h}` as Digest),
    san,
    issuer: uri,
    fulcio: fc.record({ sourceRepositoryURI: uri, sourceRepositoryOwnerURI: uri, buildSignerURI: uri }, { requiredKeys: [] }),
  },
  { requiredKeys: ['type', 'fingerprint'] },
);
const digest = fc.oneof(hex(32).map((h) => `sha256:${h}`), hex(48).map((h) => `sha384:${h}`), hex(64).map((h) => `sha512:${h}`)) as fc.Arbitrary<Digest>;
const entry = fc.record({ digests: fc.array(digest, { minLength: 1, maxLength: 3 }), signers: fc.array(signer, { minLength: 1, maxLength: 3 }) }).map(
  ({ digests, signers }): Entry => ({ log: 'l', index: 0, leafHash: '', uuid: '', kind: 'dsse', apiVersion: '0.0.1', digests, ...(signers.length > 1 ? { signers } : { signer: signers[0]! }) }),
);
const keyOf = (field: number, v: Uint8Array) => `${field}:${Buffer.from(v).toString('hex')}`;

describe('search selectors', () => {
  it('look up a key the entry was indexed under, and match the entry, for each value its signers and digests carry', () => {
    fc.assert(
      fc.property(entry, fc.nat(), (e, pick) => {
        const signers = e.signers ?? [e.signer!];
        const s = signers[pick % signers.length]!;
        const indexed = new Set(indexValues(e, true).map(([f, v]) => keyOf(f, v)));
        for (const sel of SELECTORS) {
          const v = VALUE_OF[sel.param](e, s);
          // `*` in an identity is the prefix wildcard (refused anywhere but last), so an identity with a
          // literal `*` is found by its other selectors only.
          if (v === undefined || (sel.param === 'identity' && v.includes('*'))) continue;
          const { value, prefix } = sel.lookup(v);
          expect(prefix).toBe(false);
          expect(indexed.has(keyOf(Field[sel.field], value)), `${sel.param}=${v}`).toBe(true);
          expect(sel.matches(e, signers, v), `${sel.param}=${v}`).toBe(true);
        }
      }),
    );
  });

  it('do not match an entry none of whose signers or digests carries the value', () => {
    // Identities compare case-insensitively here, a superset of the selector's rule (emails only).
    const holds = (e: Entry, param: SelectorParam, v: string) =>
      [...(e.signers ?? [e.signer!]).map((s) => VALUE_OF[param](e, s)), ...(param === 'digest' ? e.digests : [])].some((x) => x !== undefined && (param === 'identity' ? x.toLowerCase() === v.toLowerCase() : x === v));
    fc.assert(
      fc.property(entry, entry, (e, other) => {
        const signers = e.signers ?? [e.signer!];
        for (const sel of SELECTORS) {
          for (const s of other.signers ?? [other.signer!]) {
            const v = VALUE_OF[sel.param](other, s);
            if (v === undefined || holds(e, sel.param, v)) continue;
            expect(sel.matches(e, signers, v), `${sel.param}=${v}`).toBe(false);
          }
        }
      }),
    );
  });

  it('search an identity prefix ending in *, case-insensitively for emails, and refuse other wildcards', () => {
    const id = SELECTORS.find((s) => s.param === 'identity')!;
    const alice: Signer = { type: 'x509', fingerprint: `sha256:${'0'.repeat(64)}`, san: 'Alice@Example.COM' };
    const e: Entry = { log: 'l', index: 0, leafHash: '', uuid: '', kind: 'dsse', apiVersion: '0.0.1', digests: [], signer: alice };
    expect(id.lookup('alice@*')).toEqual({ value: new Uint8Array(Buffer.from('alice@')), prefix: true });
    expect(id.matches(e, [alice], 'alice@*')).toBe(true);
    expect(id.matches(e, [alice], 'ALICE@example.com')).toBe(true);
    expect(id.matches(e, [alice], 'bob@*')).toBe(false);
    expect(() => id.lookup('al*ce')).toThrow(/only a trailing \*/);
    expect(() => id.lookup('al*')).toThrow(/at least 3 characters/);
  });

  it('accept a digest as sha256/384/512:HEX or bare 64 hex, in any case, and nothing else', () => {
    const h = 'AB'.repeat(32);
    expect(normaliseDigest(h)).toBe(`sha256:${h.toLowerCase()}`);
    expect(normaliseDigest(`SHA384:${'c'.repeat(96)}`)).toBe(`sha384:${'c'.repeat(96)}`);
    for (const bad of ['sha256:abc', `sha1:${'a'.repeat(40)}`, `sha512:${'a'.repeat(64)}`, `${'g'.repeat(64)}`]) expect(() => normaliseDigest(bad)).toThrow(/digest must be/);
  });

  it('are each a query parameter, documented in /openapi.json, and a `tlogwatch search` flag', () => {
    const params = SELECTORS.map((s) => s.param);
    expect(new Set(params).size).toBe(SELECTORS.length);
    for (const p of params) expect(Object.keys(SearchQuery.shape)).toContain(p);
    const doc = buildOpenApi() as { paths: Record<string, { get: { parameters: Array<{ name: string; schema: { description?: string } }> } }> };
    const documented = doc.paths['/v1/search']!.get.parameters;
    for (const s of SELECTORS) expect(documented.find((d) => d.name === s.param)?.schema.description).toBe(s.schema.description);
    expect(new Set(QUERY_PARAMS.values())).toEqual(new Set([...params, 'since', 'until']));
    for (const s of SELECTORS) expect(QUERY_PARAMS.get(s.flag)).toBe(s.param);
  });
});
