/**
 * Backfill of the Rekor v1 shards retired before the one a mirror started in, against the simulator over
 * loopback and a real LevelDB: each tree filled newest first, its first batch checked against the tree's
 * final signed tree head (LogInfo `inactiveShards`), entry for entry the simulator's manifest afterwards;
 * served through /v1 and the Rekor-compatible routes with the retired tree's ID and proofs against its
 * head; resumable at and across tree boundaries; a lying log halted; a key the trusted root does not give
 * for the tree refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { integrityHooks } from '../../../src/daemon.ts';
import { isTlogwatchError } from '../../../src/errors.ts';
import { verifySET } from '../../../src/entries/set.ts';
import { retiredShards, reverifyLog } from '../../../src/jobs.ts';
import { createLogger } from '../../../src/logger.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { Backfiller, type BackfillOptions } from '../../../src/mirror/backfill.ts';
import type { TreeKey } from '../../../src/mirror/backfill-trees.ts';
import type { RuleSet } from '../../../src/monitor/compile.ts';
import { monitorHooks } from '../../../src/monitor/hooks.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { ecdsaVerifier } from '../../../src/note/keys.ts';
import { checkLog } from '../../../src/store/check.ts';
import { checkCheckpointHistory, checkRetiredShards, checkTreeHashes } from '../../../src/store/check-tree.ts';
import { startSeq } from '../../../src/store/codec.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { nodeKey, SCHEMA_EARLIER_TREES, SCHEMA_VERSION } from '../../../src/store/keys.ts';
import { checkpointVerifierForTlog, setKeyForTlog } from '../../../src/trust/trusted-root.ts';
import { treePrefix } from '../../sim/server-v1.ts';
import { expectStoreMatchesManifest, harness, jobContext, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hexb = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const state = async () => (await h!.store.getLogState('sim'))!;

function backfiller(deps: { keys?: readonly TreeKey[]; rules?: RuleSet } = {}): Backfiller {
  const hooks = integrityHooks(h!.metrics, deps.rules ? monitorHooks(() => deps.rules!, h!.metrics) : undefined, findingOps);
  return new Backfiller(h!.follower.cfg, {
    store: h!.store,
    metrics: h!.metrics,
    logger: createLogger({ level: 'silent' }),
    verifiers: [checkpointVerifierForTlog(h!.tlog)],
    setKey: setKeyForTlog(h!.tlog),
    ...(deps.keys ? { keys: deps.keys } : {}),
    hooks,
  });
}

/** The simulator's log key as the trusted root gives it, with a validity. */
const simKey = (validity: Pick<TreeKey, 'validFrom' | 'validUntil'> = {}): TreeKey => ({ verifier: checkpointVerifierForTlog(h!.tlog), setKey: setKeyForTlog(h!.tlog), ...validity });

/**
 * Three trees of 200 ([0, 200) and [200, 400) retired, [400, 600) active), a mirror started at 480 that
 * has verified the active tree and the final heads of the two before it.
 */
async function startedInTheLastTree(seed: string, batchSize = 30): Promise<void> {
  h = await harness({ api: 'v1', entries: 600, seed, shards: 3 }, { start: 480n, batchSize });
  await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 200n);
  expect((await state()).priorTrees?.map((t) => t.treeID)).toEqual(h.sim.log.shards.slice(0, 2).map((s) => s.treeID));
}

/** Every check the store has: checkLog, the trees' hashes, the retired trees, the checkpoint history. */
async function expectStoreChecks(): Promise<void> {
  const s = await state();
  expect((await checkLog(h!.store, 'sim')).problems).toEqual([]);
  const problems: string[] = [];
  await checkTreeHashes(h!.store, 'sim', s, (p) => problems.push(p));
  expect(problems).toEqual([]);
  expect(await checkRetiredShards(h!.store, 'sim')).toEqual([]);
  expect(await checkCheckpointHistory(h!.store, 'sim', s)).toEqual([]);
}

function apiOf(): Hono {
  return createApp({ store: h!.store, metrics: h!.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], logPublicKey: () => h!.tlog.spki });
}

/** The API's inclusion proof of entry i, checked against the signed tree head it names, which is of tree `treeID`. */
async function expectProofVerifies(app: Hono, i: number, treeID: string) {
  const res = await app.request(`/v1/entries/sim/${i}?include=body,proof`);
  expect(res.status, `proof of ${i}`).toBe(200);
  const body = (await res.json()) as { verified: boolean; body: string; inclusionProof: { logIndex: number; treeSize: number; hashes: string[]; checkpoint: string } };
  expect(body.verified).toBe(true);
  const p = body.inclusionProof;
  const { checkpoint } = verifyCheckpoint(p.checkpoint, `${h!.tlog.name} - ${treeID}`, [checkpointVerifierForTlog(h!.tlog)]);
  expect(checkpoint.size).toBe(BigInt(p.treeSize));
  verifyInclusion(BigInt(p.logIndex), BigInt(p.treeSize), leafHash(b64(body.body)), p.hashes.map(b64), checkpoint.rootHash);
}

type RekorEntry = Record<string, { body: string; integratedTime: number; logID: string; logIndex: number; attestation?: unknown; verification: { signedEntryTimestamp: string; inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[]; checkpoint: string } } }>;

/**
 * A Rekor LogEntry from the mirror and from the log: the same entry ID (the retired tree's prefix), body,
 * time, log ID, index, attestation and inclusion proof, and a checkpoint with the same signed text (ECDSA
 * signatures and SETs are made anew by each signing); the mirror's SET is the log's, and verifies.
 */
function expectSameRekorEntry(mine: RekorEntry, theirs: RekorEntry) {
  const [[id, m]] = Object.entries(mine) as [[string, RekorEntry[string]]];
  const [[theirId, t]] = Object.entries(theirs) as [[string, RekorEntry[string]]];
  expect(id).toBe(theirId);
  const { verification: mv, ...mRest } = m;
  const { verification: tv, ...tRest } = t;
  expect(mRest).toEqual(tRest);
  const signedText = (note: string) => note.slice(0, note.indexOf('\n\n') + 1);
  expect({ ...mv.inclusionProof, checkpoint: signedText(mv.inclusionProof.checkpoint) }).toEqual({ ...tv.inclusionProof, checkpoint: signedText(tv.inclusionProof.checkpoint) });
  verifySET({ body: b64(m.body), integratedTime: BigInt(m.integratedTime), logId: h!.tlog.keyId, logIndex: BigInt(m.logIndex), set: b64(mv.signedEntryTimestamp) }, h!.tlog.spki);
}

describe('backfill of the Rekor v1 shards retired before the mirror started', () => {
  it('fills each tree newest first against its final signed tree head, equal to the manifest, and serves it like any entry', async () => {
    await startedInTheLastTree('bf-prior');
    const [t0, t1, t2] = h!.sim.log.shards.map((s) => s.treeID) as [string, string, string];
    const rules = checkRules([{ name: 'all.yaml', text: 'rules:\n  - id: every-entry\n    severity: info\n    notify: all\n    watch: { identities: ["**"] }\n' }]);
    if (!rules.ok) throw new Error(JSON.stringify(rules.errors));
    const batches: Array<[bigint, bigint]> = [];
    const r = await backfiller({ rules: rules.ruleSet, keys: [simKey()] }).run({ onBatch: (p) => batches.push([p.from, p.to]) });
    expect(r).toEqual({ log: 'sim', status: 'complete', before: 480n, after: 0n, target: 0n, floor: 0n, entries: 480n });
    // Backwards, contiguous, and no batch across a tree boundary: each tree starts afresh at its end.
    expect(batches[0]).toEqual([450n, 480n]);
    for (let i = 1; i < batches.length; i++) expect(batches[i]![1]).toBe(batches[i - 1]![0]);
    expect(batches.every(([a, b]) => a / 200n === (b - 1n) / 200n)).toBe(true);
    expect(batches).toContainEqual([400n, 420n]);
    expect(batches).toContainEqual([370n, 400n]);
    expect(batches).toContainEqual([170n, 200n]);
    expect(batches.at(-1)).toEqual([0n, 20n]);

    const s = await state();
    expect(s).toMatchObject({ status: 'following', startIndex: 0n, shard: { seq: 0, treeID: t2, offset: 400n } });
    expect(startSeq(s)).toBe(-2);
    await expectStoreChecks();
    expect(await expectStoreMatchesManifest(h!.store, h!.sim)).toBe(600);
    // Each tree entered has its final head as its verified checkpoint, under its own (two's complement) key.
    for (const [seq, t] of [[-1, 1], [-2, 0]] as const) {
      const [cp] = (await h!.store.listCheckpoints('sim', { limit: 2, tree: seq })).checkpoints;
      expect(cp?.note).toBe(s.priorTrees![t]!.head.note);
    }
    // The rules saw the earlier trees' entries too.
    const findings = (await new FindingsRepo(h!.store).list({ rule: 'every-entry', limit: 1000 })).findings;
    expect(findings.filter((f) => f.index! < 400).length).toBe(manifestOf(h!.sim).filter((m: { index: number; san: string | null }) => m.index < 400 && m.san !== null).length);

    const app = apiOf();
    for (const i of [0, 1, 199]) await expectProofVerifies(app, i, t0);
    for (const i of [200, 201, 255, 256, 399]) await expectProofVerifies(app, i, t1);
    for (const i of [400, 479, 480, 599]) await expectProofVerifies(app, i, t2);
    expect((await app.request('/v1/entries/sim/150/bundle')).status).toBe(200);
    // Rekor-compatible reads of the retired trees: as the log serves them, by index, UUID and entry ID.
    const upstream = async (path: string, init?: RequestInit) => (await (await fetch(`${h!.sim.url}${path}`, init)).json()) as RekorEntry;
    const mine = async (path: string, init?: RequestInit) => {
      const res = await app.request(path, init);
      expect(res.status, path).toBe(200);
      return (await res.json()) as RekorEntry;
    };
    for (const i of [0, 123, 199, 200, 333, 399]) expectSameRekorEntry(await mine(`/api/v1/log/entries?logIndex=${i}`), await upstream(`/api/v1/log/entries?logIndex=${i}`));
    const m = manifestOf(h!.sim);
    const uuid = m[123]!.uuid as string;
    const shard0 = h!.sim.log.shards[0]!;
    expectSameRekorEntry(await mine(`/api/v1/log/entries/${uuid}`), await upstream(`/api/v1/log/entries/${uuid}`));
    expectSameRekorEntry(await mine(`/api/v1/log/entries/${treePrefix(shard0)}${uuid}`), await upstream(`/api/v1/log/entries/${treePrefix(shard0)}${uuid}`));
    expect((await app.request(`/api/v1/log/entries/${treePrefix(h!.sim.log.shards[1]!)}${uuid}`)).status).toBe(404);
    const post = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const both = (await (await app.request('/api/v1/log/entries/retrieve', post({ logIndexes: [5, 250] }))).json()) as RekorEntry[];
    expect(both.map((e) => Object.values(e)[0]!.logIndex)).toEqual([5, 250]);
    const hash = (m[123]!.digests as string[])[0]!;
    expect((await (await app.request('/api/v1/index/retrieve', post({ hash }))).json()) as string[]).toContain(`${treePrefix(shard0)}${uuid}`);
    const found = (await (await app.request(`/v1/search?digest=${hash}`)).json()) as { entries: Array<{ index: number }> };
    expect(found.entries.map((e) => e.index)).toContain(123);
    // Consistency proofs inside a retired tree the mirror started after, by its tree ID, as the log gives them.
    const proof = async (base: (p: string) => Promise<Response>, first: number, last: number, treeID: string) => (await (await base(`/api/v1/log/proof?firstSize=${first}&lastSize=${last}&treeID=${treeID}`)).json()) as { rootHash: string; hashes: string[] };
    const local = (p: string) => Promise.resolve(app.request(p));
    const remote = (p: string) => fetch(`${h!.sim.url}${p}`);
    for (const [treeID, first, last] of [[t0, 10, 200], [t0, 1, 77], [t1, 120, 200]] as const) {
      const got = await proof(local, first, last, treeID);
      // The same answer as the log's: its hashes, and the tree's current root whatever lastSize is.
      expect(got).toEqual(await proof(remote, first, last, treeID));
      const tree = h!.sim.log.shards.find((t) => String(t.treeID) === treeID)!.tree;
      verifyConsistency(BigInt(first), BigInt(last), got.hashes.map(hexb), tree.root(first), tree.root(last));
    }
    // LogInfo still lists them, as the log does.
    const info = (await (await app.request('/api/v1/log')).json()) as { inactiveShards: Array<{ treeID: string; treeSize: number }> };
    expect(info.inactiveShards.map((t) => [t.treeID, t.treeSize])).toEqual([[t0, 200], [t1, 200]]);

    // The scheduled checks over it: clean; a leaf hash of tree −1 changed under the mirror is found.
    const jobs = { ...jobContext(h!, new FindingsRepo(h!.store)) };
    expect((await reverifyLog(jobs, 'sim')).problems).toEqual([]);
    await retiredShards(jobs);
    expect((await new FindingsRepo(h!.store).list({ rule: 'store-integrity', limit: 10 })).findings).toEqual([]);
    await h!.store.db.put(nodeKey(await h!.store.logId('sim'), -1, 0, 57n), new Uint8Array(32));
    expect(await checkRetiredShards(h!.store, 'sim')).toEqual([`retired tree ${t1}: stored hashes do not rebuild the root of its final checkpoint (size 200)`]);

    // Nothing is left to fill, and the forward mirror carries on.
    expect(await backfiller().run()).toMatchObject({ status: 'nothing-to-do', after: 0n });
    h!.sim.append(20);
    await roundsUntil(h!, async () => (await state()).verified?.size === 220n);
    expect((await checkLog(h!.store, 'sim')).problems).toEqual([]);
    expect(await expectStoreMatchesManifest(h!.store, h!.sim)).toBe(620);
  });

  it('resumes where it stopped: at a tree boundary, inside a tree before, and at the boundary below it', async () => {
    await startedInTheLastTree('bf-prior-resume', 40);
    const stopAt = async (from: bigint, o: BackfillOptions = {}) => {
      const abort = new AbortController();
      const r = await backfiller().run({ ...o, signal: abort.signal, onBatch: (p) => p.from === from && abort.abort() });
      expect(r).toMatchObject({ status: 'interrupted', after: from });
      const s = await state();
      expect(s.startIndex).toBe(from);
      expect((await checkLog(h!.store, 'sim')).problems).toEqual([]);
      return s;
    };
    // The store's schema says whether it holds a tree before its start (keys.ts SCHEMA_EARLIER_TREES).
    const schema = async () => [...(await h!.store.db.get(new Uint8Array([0, ...Buffer.from('schema')])))];
    // Tree 0 complete, the one before not entered: the start frontier is tree 0's, empty.
    let s = await stopAt(400n);
    expect(startSeq(s)).toBe(0);
    expect(s.startFrontier?.length).toBe(8);
    expect((await h!.store.listCheckpoints('sim', { limit: 1, tree: -1 })).checkpoints).toEqual([]);
    expect(await schema()).toEqual([0, SCHEMA_VERSION]);
    // Inside tree −1: its frontier, tree-local.
    s = await stopAt(280n);
    expect(startSeq(s)).toBe(-1);
    expect(await schema()).toEqual([0, SCHEMA_EARLIER_TREES]);
    await expectStoreChecks();
    // At tree −1's first leaf.
    s = await stopAt(200n);
    expect(startSeq(s)).toBe(-1);
    await expectStoreChecks();
    // A run with --to inside a tree before stops there.
    expect(await backfiller().run({ to: 150n })).toMatchObject({ status: 'complete', after: 150n });
    expect(startSeq(await state())).toBe(-2);
    await expectStoreChecks();
    expect(await backfiller().run()).toMatchObject({ status: 'complete', before: 150n, after: 0n });
    await expectStoreChecks();
    expect(await expectStoreMatchesManifest(h!.store, h!.sim)).toBe(600);
  });

  it('fills the trees before a tree the mirror started in that has since retired', async () => {
    // Started at 250, in [200, 400); it retired, and the mirror follows [400, 600).
    h = await harness({ api: 'v1', entries: 600, seed: 'bf-prior-retired', shards: 3 }, { start: 250n, batchSize: 40 });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.shard?.seq === 1 && (await state()).verified?.size === 200n);
    expect(await backfiller().run()).toMatchObject({ status: 'complete', before: 250n, after: 0n, entries: 250n });
    expect(startSeq(await state())).toBe(-1);
    await expectStoreChecks();
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(600);
    const app = apiOf();
    for (const i of [0, 199]) await expectProofVerifies(app, i, h.sim.log.shards[0]!.treeID);
    for (const i of [200, 399]) await expectProofVerifies(app, i, h.sim.log.shards[1]!.treeID);
  });

  it('stops at the first leaf of the tree it started in while the trees before are not known, and says so', async () => {
    await startedInTheLastTree('bf-prior-unknown');
    const s = await state();
    delete s.priorTrees;
    await h!.store.putLogState(s);
    expect(await backfiller().run()).toMatchObject({ status: 'complete', after: 400n, target: 400n, floor: 400n });
    expect(await backfiller().run({ to: 0n })).toMatchObject({ status: 'nothing-to-do', after: 400n, floor: 400n });
  });
});

describe('backfill of a retired shard that the log lies about', () => {
  async function expectHalted(code: string, startIndex: bigint, keys?: readonly TreeKey[]) {
    const err = await backfiller(keys ? { keys } : {})
      .run()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isTlogwatchError(err) && err.kind === 'misbehaviour', String(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    const s = await state();
    expect(s).toMatchObject({ status: 'halted', startIndex });
    expect((await checkLog(h!.store, 'sim')).problems).toEqual([]);
    expect(await h!.store.getEntry('sim', startIndex - 1n)).toBeUndefined();
    expect((await new FindingsRepo(h!.store).list({ rule: 'log-integrity', limit: 10 })).findings).toHaveLength(1);
    return s;
  }

  it('a changed body in the first batch of a tree before does not give its final signed root: nothing of that tree is committed', async () => {
    await startedInTheLastTree('bf-prior-lie1');
    h!.sim.log.faults.enable('rewrite', 390);
    const s = await expectHalted('VERIFY_ROOT_MISMATCH', 400n);
    expect(s.halt?.message).toMatch(/entries \[370, 400\) .* but the tree's final signed tree head says [0-9a-f]{64}: the log serves a history it did not sign/);
    expect(s.halt?.evidence).toMatchObject({ kind: 'backfill-mismatch', from: '370', to: '400', treeID: h!.sim.log.shards[1]!.treeID, verifiedNote: s.priorTrees![1]!.head.note });
    expect((await h!.store.listCheckpoints('sim', { limit: 1, tree: -1 })).checkpoints).toEqual([]);
  });

  it('a changed body further down a tree before does not reproduce the verified frontier', async () => {
    await startedInTheLastTree('bf-prior-lie2');
    h!.sim.log.faults.enable('rewrite', 150);
    // Tree −2's batches [170, 200) commits; [140, 170) holds the rewritten entry.
    const s = await expectHalted('VERIFY_ROOT_MISMATCH', 170n);
    expect(s.halt?.evidence).toMatchObject({ kind: 'backfill-mismatch', from: '140', to: '170', treeID: h!.sim.log.shards[0]!.treeID });
  });
});

describe('backfill of a retired shard checks it with the trusted root key for that tree', () => {
  it('refuses a tree whose entries were integrated outside the validity the trusted root gives its key, and halts nothing', async () => {
    await startedInTheLastTree('bf-prior-validity');
    const m = manifestOf(h!.sim) as Array<{ integratedTime: number }>;
    // The key became the log's with tree 0's first entry: tree −1's are older.
    const from = new Date(m[400]!.integratedTime * 1000);
    const err = await backfiller({ keys: [simKey({ validFrom: from })] })
      .run()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isTlogwatchError(err, 'BACKFILL_REFUSED') && err.data['reason'] === 'key-not-valid', String(err)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`entry 370 of tree ${h!.sim.log.shards[1]!.treeID} was integrated at .* outside the validity the trusted root gives the key that signed the tree \\(\\[${from.toISOString()}, …\\]\\)`));
    // Tree 0 was filled, with the log's own key; nothing of tree −1.
    const s = await state();
    expect(s).toMatchObject({ status: 'following', startIndex: 400n });
    expect((await h!.store.listCheckpoints('sim', { limit: 1, tree: -1 })).checkpoints).toEqual([]);
    expect((await checkLog(h!.store, 'sim')).problems).toEqual([]);
    // The same key listed again for the earlier period: every tree has a key valid for it.
    expect(await backfiller({ keys: [simKey({ validFrom: from }), simKey({ validUntil: from })] }).run()).toMatchObject({ status: 'complete', after: 0n });
    await expectStoreChecks();
  });

  it("refuses a tree whose final head no key of the log's verifies", async () => {
    await startedInTheLastTree('bf-prior-nokey');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
    const key: TreeKey = { verifier: ecdsaVerifier(h!.tlog.name, new Uint8Array(other)) };
    const err = await backfiller({ keys: [key] })
      .run()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isTlogwatchError(err, 'BACKFILL_REFUSED') && err.data['reason'] === 'no-key-for-tree', String(err)).toBe(true);
    expect((err as Error).message).toMatch(/final tree head of tree \d+ of sim does not verify with any key the trusted root lists/);
    expect(await state()).toMatchObject({ status: 'following', startIndex: 400n });
  });
});
