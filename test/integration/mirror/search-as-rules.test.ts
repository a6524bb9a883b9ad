/**
 * `/v1/search` finds what the rules see (store/index-values.ts claimValue), over a Rekor v1 log mirrored from
 * the simulator into a real LevelDB and asked over loopback:
 * - a long-lived key's signature logged under a certificate someone made around it is found by the key's
 *   fingerprint, beside the key's own entries, as watch.fingerprints sees it; the Rekor-compatible
 *   index/retrieve keeps Rekor's answer (the key finds only the entries whose logged key it is);
 * - a github.com repository and owner in any case (Fulcio writes them as GitHub spells them);
 * - a GitHub Actions certificate older than Fulcio's .9 (and .12, .16) by the build signer, repository and
 *   owner the rules derive for it.
 * A store indexed at the previous decoder epoch gets the new keys, and loses the ones spelled as signed, from
 * the re-index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { DECODER_EPOCH } from '../../../src/entries/decoder-epoch.ts';
import { createLogger } from '../../../src/logger.ts';
import { checkLog } from '../../../src/store/check.ts';
import { entryTime } from '../../../src/store/index-values.ts';
import { Bucket, Field, indexKey, key, MARKER } from '../../../src/store/keys.ts';
import { reindexStore } from '../../../src/store/reindex.ts';
import { Store } from '../../../src/store/store.ts';
import { serveOnLoopback, type Loopback } from '../../helpers/loopback.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const ENTRIES = 50;
const GITHUB_ACTIONS = 'https://token.actions.githubusercontent.com';
/** Signed with the simulator's long-lived key, and under a certificate someone made around that key. */
const BY_KEY = 11;
const WRAPPED = 17;
/** A Fulcio-style certificate naming the repository as GitHub spells it. */
const AZURE = 23;
const AZURE_REPO = 'https://github.com/Azure/azure-sdk';
const AZURE_WORKFLOW = `${AZURE_REPO}/.github/workflows/release.yml@refs/tags/v1`;
/** A GitHub Actions certificate from before Fulcio's .9: .1 and .5 only, the workflow in the SAN. */
const LEGACY = 29;
const LEGACY_WORKFLOW = 'https://github.com/Acme-Legacy/Tools/.github/workflows/release.yml@refs/tags/v0.9';

describe('search finds what the rules see, mirrored from a Rekor v1 log', () => {
  let h: Harness;
  let server: Loopback;
  let m: any[];
  beforeAll(async () => {
    h = await harness({
      api: 'v1',
      entries: ENTRIES,
      seed: 'search-as-rules',
      inject: [
        { at: BY_KEY, key: 'ecdsa' },
        { at: WRAPPED, cert: { san: 'builder@evil.example', issuer: 'https://accounts.google.com', untrustedCA: true, wrapsKey: true } },
        { at: AZURE, cert: { san: AZURE_WORKFLOW, issuer: GITHUB_ACTIONS, extensions: { sourceRepositoryURI: AZURE_REPO, sourceRepositoryOwnerURI: 'https://github.com/Azure', buildSignerURI: AZURE_WORKFLOW } } },
        { at: LEGACY, cert: { san: LEGACY_WORKFLOW, extensions: { issuerV1: GITHUB_ACTIONS, githubWorkflowRepository: 'Acme-Legacy/Tools', githubWorkflowRef: 'refs/tags/v0.9' } } },
      ],
    });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(ENTRIES));
    server = await serveOnLoopback(createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] }));
    m = manifestOf(h.sim);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await h?.cleanup();
  });

  const search = async (base: string, query: Record<string, string>) => {
    const res = await fetch(`${base}/v1/search?${new URLSearchParams(query).toString()}`);
    expect(res.status, JSON.stringify(query)).toBe(200);
    return ((await res.json()) as { entries: Array<{ index: number }> }).entries.map((e) => e.index).sort((a, b) => a - b);
  };
  const signerOf = async (index: number) => (await h.store.getEntry('sim', index))!.record.entry.signer!;
  const hex = (fp: string) => fp.slice('sha256:'.length);

  it('a key fingerprint finds the key\'s entries and the certificate made around it; the certificate\'s own finds it alone', async () => {
    const key = await signerOf(BY_KEY);
    const cert = await signerOf(WRAPPED);
    expect(key.type).toBe('key');
    expect(cert).toMatchObject({ type: 'x509', keyFingerprint: key.fingerprint });
    expect(await search(server.url, { fingerprint: hex(key.fingerprint) })).toEqual([BY_KEY, WRAPPED]);
    expect(await search(server.url, { fingerprint: key.fingerprint })).toEqual([BY_KEY, WRAPPED]);
    expect(await search(server.url, { fingerprint: hex(cert.fingerprint) })).toEqual([WRAPPED]);
    // Another selector driving the scan filters by the key's fingerprint too.
    expect(await search(server.url, { digest: m[WRAPPED].digests[0] as string, fingerprint: hex(key.fingerprint) })).toEqual([WRAPPED]);
    expect(await search(server.url, { identity: 'builder@evil.example', fingerprint: hex(key.fingerprint) })).toEqual([WRAPPED]);
  });

  it('index/retrieve by publicKey answers as Rekor does: the key finds the entries logged with it, not a certificate made around it', async () => {
    const body = JSON.parse(Buffer.from((await h.store.getEntry('sim', BY_KEY))!.body).toString('utf8')) as { spec: { signature: { publicKey: { content: string } } } };
    const retrieve = async (base: string, query: unknown) => {
      const res = await fetch(`${base}/api/v1/index/retrieve`, { method: 'POST', body: JSON.stringify(query), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      return ((await res.json()) as string[]).sort();
    };
    const publicKey = { format: 'x509', content: body.spec.signature.publicKey.content };
    for (const q of [{ publicKey }, { publicKey, hash: m[WRAPPED].digests[0] as string, operator: 'and' }, { publicKey, email: 'builder@evil.example' }]) {
      const [mine, upstream] = await Promise.all([retrieve(server.url, q), retrieve(h.sim.url, q)]);
      expect(mine, JSON.stringify(q)).toEqual(upstream);
      expect(mine.some((id) => id.endsWith(m[WRAPPED].uuid as string)), JSON.stringify(q)).toBe('email' in q);
    }
    expect((await retrieve(server.url, { publicKey })).map((id) => id.slice(-64))).toEqual([m[BY_KEY].uuid]);
  });

  it('a github.com repository and owner in any case, the workflow path and ref exactly', async () => {
    for (const repository of [AZURE_REPO, 'https://github.com/azure/azure-sdk', 'https://GitHub.com/AZURE/Azure-SDK']) expect(await search(server.url, { repository }), repository).toEqual([AZURE]);
    for (const owner of ['https://github.com/Azure', 'https://github.com/azure']) expect(await search(server.url, { owner }), owner).toEqual([AZURE]);
    expect(await search(server.url, { buildSigner: 'https://github.com/azure/Azure-SDK/.github/workflows/release.yml@refs/tags/v1' })).toEqual([AZURE]);
    expect(await search(server.url, { buildSigner: `${AZURE_REPO}/.github/workflows/Release.yml@refs/tags/v1` })).toEqual([]);
    expect(await search(server.url, { buildSigner: `${AZURE_REPO}/.github/workflows/release.yml@refs/tags/V1` })).toEqual([]);
    // As a filter on another selector's scan.
    expect(await search(server.url, { digest: m[AZURE].digests[0] as string, repository: 'https://github.com/azure/azure-sdk', owner: 'https://github.com/AZURE' })).toEqual([AZURE]);
  });

  it('a GitHub Actions certificate older than .9 by the build signer its SAN names, and the repository and owner .5 names', async () => {
    const s = await signerOf(LEGACY);
    expect(s.fulcio?.buildSignerURI).toBeUndefined();
    expect(s.fulcio?.sourceRepositoryURI).toBeUndefined();
    expect(await search(server.url, { buildSigner: LEGACY_WORKFLOW })).toEqual([LEGACY]);
    expect(await search(server.url, { buildSigner: LEGACY_WORKFLOW.replace('@refs/tags/v0.9', '@refs/tags/V0.9') })).toEqual([]); // the ref is exact
    expect(await search(server.url, { buildSigner: 'https://github.com/acme-legacy/tools/.github/workflows/release.yml@refs/tags/v0.9' })).toEqual([LEGACY]);
    expect(await search(server.url, { repository: 'https://github.com/acme-legacy/tools' })).toEqual([LEGACY]);
    expect(await search(server.url, { owner: 'https://github.com/Acme-Legacy' })).toEqual([LEGACY]);
    expect(await search(server.url, { digest: m[LEGACY].digests[0] as string, buildSigner: LEGACY_WORKFLOW })).toEqual([LEGACY]);
  });

  it('a store indexed at the previous epoch answers the same once re-indexed, its keys spelled as signed gone', async () => {
    const id = await h.store.logId('sim');
    const [wrappedAt, azureAt, legacyAt] = await Promise.all([WRAPPED, AZURE, LEGACY].map(async (i) => entryTime((await h.store.getEntry('sim', i))!.record.entry)));
    const claimKeys = (t: number, index: number, [repository, owner, signer]: readonly string[]) =>
      ([[Field.REPOSITORY, repository], [Field.OWNER, owner], [Field.BUILD_SIGNER, signer]] as const).map(([f, v]) => indexKey(f, Buffer.from(v!, 'utf8'), t, id, index));
    const keyFp = Buffer.from(hex((await signerOf(BY_KEY)).fingerprint), 'hex');
    // What epoch 3 wrote: no key fingerprint under a certificate, the Azure claims as signed, nothing derived for the old certificate.
    const implied = [
      indexKey(Field.FINGERPRINT, keyFp, wrappedAt!, id, WRAPPED),
      ...claimKeys(azureAt!, AZURE, ['https://github.com/azure/azure-sdk', 'https://github.com/azure', 'https://github.com/azure/azure-sdk/.github/workflows/release.yml@refs/tags/v1']),
      ...claimKeys(legacyAt!, LEGACY, ['https://github.com/acme-legacy/tools', 'https://github.com/acme-legacy', 'https://github.com/acme-legacy/tools/.github/workflows/release.yml@refs/tags/v0.9']),
    ];
    for (const k of implied) expect(await h.store.db.has(k)).toBe(true);
    const asSigned = claimKeys(azureAt!, AZURE, [AZURE_REPO, 'https://github.com/Azure', AZURE_WORKFLOW]);
    await h.store.writeOps([
      ...implied.map((k) => ({ type: 'del' as const, key: k })),
      ...asSigned.map((k) => ({ type: 'put' as const, key: k, value: MARKER })),
      { type: 'put', key: key(Bucket.META, 'decoderEpoch'), value: Uint8Array.of(0, DECODER_EPOCH - 1) },
    ]);
    await server.close();
    await h.store.close();
    const store = await Store.open(h.storeDir);
    const again = await serveOnLoopback(createApp({ store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] }));
    try {
      expect(store.indexedEpoch).toBe(DECODER_EPOCH - 1);
      expect(await search(again.url, { fingerprint: keyFp.toString('hex') })).toEqual([BY_KEY]);
      expect(await search(again.url, { repository: 'https://github.com/azure/azure-sdk' })).toEqual([]);
      expect(await search(again.url, { buildSigner: LEGACY_WORKFLOW })).toEqual([]);
      expect(await reindexStore(store, { chunk: 16 })).toEqual({ logs: 1, entries: ENTRIES, added: implied.length, removed: asSigned.length, undecodable: 0 });
      expect(store.indexedEpoch).toBe(DECODER_EPOCH);
      expect(await search(again.url, { fingerprint: keyFp.toString('hex') })).toEqual([BY_KEY, WRAPPED]);
      expect(await search(again.url, { repository: AZURE_REPO })).toEqual([AZURE]);
      expect(await search(again.url, { owner: 'https://github.com/azure' })).toEqual([AZURE]);
      expect(await search(again.url, { buildSigner: LEGACY_WORKFLOW })).toEqual([LEGACY]);
      expect(await search(again.url, { owner: 'https://github.com/acme-legacy' })).toEqual([LEGACY]);
      for (const k of asSigned) expect(await store.db.has(k)).toBe(false);
      expect((await checkLog(store, 'sim')).problems).toEqual([]);
    } finally {
      await again.close();
      await store.close();
    }
  });
});
