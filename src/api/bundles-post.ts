/**
 * POST /v1/bundles (admin token): a pipeline hands the mirror the Sigstore bundle it just produced.
 *
 * The bundle's tlog entry must be the very leaf the log published to this mirror at that index, and the
 * bundle's checkpoint must agree with the mirror's verified history (same root at that size). A bundle
 * that disagrees is a split view only when the log signed its side: a SET over that index, or an
 * inclusion proof up to a checkpoint signed with the log's key (`checkLogSignatures`, as `tlogwatch
 * verify` checks them). Then it is a critical `log-integrity` finding with both sides as evidence;
 * otherwise anyone could have made the bundle, and it is refused (400) without a finding. A bundle whose
 * proofs or signatures fail is refused whatever it says. A consistent bundle is stored, its in-toto statement's provenance
 * is evaluated against the rules (findings like any other), and its subject digests are indexed so a
 * search by artifact digest finds the attestation.
 */
import type { Hono } from 'hono';
import { parseTlogEntries, type TlogEntryInput } from '../entries/tlog-entry.ts';
import type { Entry } from '../entries/types.ts';
import { describeError } from '../errors.ts';
import { treeRootAsync } from '../merkle/prove.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import { withStatement } from '../mirror/ingest.ts';
import type { RuleSet } from '../monitor/compile.ts';
import { evaluateEntry } from '../monitor/evaluate.ts';
import { findingId, type Finding } from '../monitor/finding.ts';
import type { FindingWriter } from '../monitor/hooks.ts';
import { digestToBytes, localStartIndex, type LogState, type StoredRecord } from '../store/codec.ts';
import { Bucket, Field, indexKey, key, MARKER, u16, u64 } from '../store/keys.ts';
import type { BatchOp } from '../store/level.ts';
import type { Store } from '../store/store.ts';
import { entryTime } from '../store/index-values.ts';
import type { TlogTrust } from '../trust/trusted-root.ts';
import { bytesEqual, toBase64, toHex } from '../util/bytes.ts';
import { checkLogSignatures, type LogSignatures } from '../verify/offline.ts';
import type { ApiHelpers } from './app.ts';
import { apiError } from './errors.ts';

export interface BundleIntake {
  store: Store;
  /** The logs this daemon follows: their names and their keys from the trusted root. */
  logs: Array<{ name: string; tlog: TlogTrust }>;
  rules: () => RuleSet;
  write: FindingWriter;
  now?: () => number;
}

type Outcome =
  | { status: 'consistent'; log: string; index: number; findings: Finding[] }
  | { status: 'pending' | 'not-mirrored'; log: string; index: number; reason: string }
  | { status: 'split-view'; log: string; index: number; finding: Finding };

function splitView(log: string, index: number, now: number, message: string, evidence: Record<string, unknown>): Finding {
  return {
    id: findingId('log-integrity', log, `bundle:${index}:${now}`),
    rule: 'log-integrity',
    kind: 'integrity',
    severity: 'critical',
    message: `log ${log}: ${message}`,
    log,
    index,
    firstSeen: now,
    status: 'open',
    evidence,
  };
}

/**
 * Whether the log itself signed `t.body` at the virtual index `t.logIndex`: its SET signs exactly that
 * (rekor.md §1.7); an inclusion proof up to a signed checkpoint signs a tree index in one tree, which is
 * that virtual index when the tree is a tiles log's (its indexes are the tree's), or for Rekor v1 when the
 * mirror knows where that tree starts: the stored entry's own tree and tree index, or the tree it follows.
 */
function signedAtIndex(t: TlogEntryInput, sigs: LogSignatures, state: LogState, stored: StoredRecord | undefined): boolean {
  if (sigs.checks.set === 'ok') return true;
  const p = t.inclusionProof;
  if (!p || sigs.checks.inclusion !== 'ok' || !sigs.signedTree) return false;
  if (sigs.signedTree.treeID === undefined) return p.logIndex === t.logIndex;
  const v1 = stored?.v1;
  if (v1?.treeID !== undefined) return v1.treeID === sigs.signedTree.treeID && v1.treeIndex === p.logIndex.toString();
  return state.shard?.treeID === sigs.signedTree.treeID && state.shard.offset + p.logIndex === t.logIndex;
}

/** What a split-view finding keeps of the bundle: enough to check the log's signatures again offline. */
function bundleEvidence(t: TlogEntryInput): Record<string, unknown> {
  const p = t.inclusionProof;
  return {
    bundleLogIndex: t.logIndex.toString(),
    bundleLeafHash: toHex(leafHash(t.body)),
    bundleBody: toBase64(t.body),
    ...(t.integratedTime !== undefined ? { bundleIntegratedTime: t.integratedTime.toString() } : {}),
    ...(t.set ? { bundleSignedEntryTimestamp: toBase64(t.set) } : {}),
    ...(p ? { bundleInclusionProof: { logIndex: p.logIndex.toString(), treeSize: p.treeSize.toString(), rootHash: toHex(p.rootHash), hashes: p.hashes.map(toHex), checkpoint: p.checkpoint ?? null } } : {}),
  };
}

/**
 * The tree the bundle's signed checkpoint is of, when the mirror holds every hash of that tree up to the
 * checkpoint's size: a tiles log's tree, or the Rekor v1 tree the mirror follows (its first tree only
 * when the mirror holds it from leaf 0).
 */
function comparableTree(sigs: LogSignatures, state: LogState): number | undefined {
  const signed = sigs.signedTree;
  if (!signed || !state.verified || signed.size > state.verified.size) return undefined;
  const seq = state.shard ? (state.shard.treeID === signed.treeID ? state.shard.seq : undefined) : signed.treeID === undefined ? 0 : undefined;
  if (seq === undefined) return undefined;
  return seq > 0 || localStartIndex(state) === 0n ? seq : undefined;
}

async function checkOne(x: BundleIntake, t: TlogEntryInput, bundleJson: string, now: number): Promise<{ outcome: Outcome; ops: BatchOp[] }> {
  const log = x.logs.find((l) => bytesEqual(l.tlog.keyId, t.logId));
  if (!log) throw apiError('API_BAD_REQUEST', `the bundle's log ${toHex(t.logId).slice(0, 16)}… is not one this mirror follows`);
  if (t.logIndex > BigInt(Number.MAX_SAFE_INTEGER)) throw apiError('API_BAD_REQUEST', `the bundle's log index ${t.logIndex} is out of range`);
  // A bundle is evidence only of what its log signed: one whose proofs do not verify proves nothing, and
  // is not stored either (the bundle route would serve it).
  const sigs = checkLogSignatures(t, log.tlog);
  if (sigs.errors.length) throw apiError('API_BAD_REQUEST', `the bundle's log signatures do not verify: ${sigs.errors.join('; ')}`);
  const index = Number(t.logIndex);
  const state: LogState | undefined = await x.store.getLogState(log.name);
  const stored = await x.store.getEntry(log.name, index);
  const leaf = leafHash(t.body);
  if (!state) return { outcome: { status: 'pending', log: log.name, index, reason: 'the mirror has not bootstrapped this log yet' }, ops: [] };
  const split = (message: string, evidence: Record<string, unknown>): { outcome: Outcome; ops: BatchOp[] } => {
    const f = splitView(log.name, index, now, message, { ...bundleEvidence(t), ...evidence, mirrorCheckpoint: state.verified?.note ?? null });
    return { outcome: { status: 'split-view', log: log.name, index, finding: f }, ops: x.write(f) };
  };
  // What the bundle says of the entry, checked first: the most precise finding.
  let disagreement: string | undefined;
  if (!stored) {
    const verifiedEnd = Number((state.shard?.offset ?? 0n) + (state.verified?.size ?? 0n));
    if (index < Number(state.startIndex)) return { outcome: { status: 'not-mirrored', log: log.name, index, reason: `the mirror started at ${state.startIndex}` }, ops: [] };
    if (index >= verifiedEnd) return { outcome: { status: 'pending', log: log.name, index, reason: `the mirror has verified the log up to ${verifiedEnd}; post again later` }, ops: [] };
    if (signedAtIndex(t, sigs, state, undefined)) return split(`the log signed an entry ${index} it never published to this mirror`, {});
    disagreement = `the bundle claims entry ${index}, which the log never published to this mirror`;
  } else if (stored.record.entry.leafHash !== toHex(leaf)) {
    if (signedAtIndex(t, sigs, state, stored.record)) return split(`the log signed another entry ${index} than the one it published to this mirror`, { mirroredLeafHash: stored.record.entry.leafHash });
    disagreement = `the bundle's entry ${index} differs from the one the log published to this mirror`;
  }
  // Whatever it says of the entry, a tree head the log signed must be a root of the history the mirror verified.
  const tree = comparableTree(sigs, state);
  if (tree !== undefined && sigs.signedTree) {
    const signed = sigs.signedTree;
    const mine = await treeRootAsync(signed.size, x.store.hashReader(log.name, tree)).catch(() => undefined);
    if (mine && !bytesEqual(mine, signed.rootHash)) {
      return split(`the log signed a tree head of size ${signed.size} whose root is not in the history it published to this mirror`, { bundleRoot: toHex(signed.rootHash), mirrorRoot: toHex(mine) });
    }
  }
  if (!stored || disagreement !== undefined) {
    throw apiError('API_BAD_REQUEST', `${disagreement ?? 'the bundle\'s entry is not in the mirror'}, and nothing the log signed puts it there (a signed entry timestamp, or an inclusion proof up to a checkpoint signed by the log): not evidence of a split view`);
  }
  const entry: Entry = { ...stored.record.entry };
  const env = t.bundleContent?.dsseEnvelope;
  // The envelope is the poster's: it counts only when its payload is the one the logged body commits to.
  if (env && !withStatement(entry, env.payload, 'bundle')) {
    throw apiError('API_BAD_REQUEST', `the bundle's DSSE payload is not the one its tlog entry ${log.name}#${index} commits to (its payload hash)`);
  }
  const ops: BatchOp[] = [{ type: 'put', key: key(Bucket.BUNDLE, u16(await x.store.logId(log.name)), u64(index)), value: Buffer.from(bundleJson) }];
  const logId = await x.store.logId(log.name);
  for (const d of entry.digests) if (!stored.record.entry.digests.includes(d)) ops.push({ type: 'put', key: indexKey(Field.DIGEST, digestToBytes(d), entryTime(entry), logId, index), value: MARKER });
  const findings = evaluateEntry(x.rules(), entry, now).map((f) => ({ ...f, id: findingId(f.rule, log.name, `${index}:bundle`) }));
  for (const f of findings) ops.push(...x.write(f));
  return { outcome: { status: 'consistent', log: log.name, index, findings }, ops };
}

export function bundleIntakeRoutes(app: Hono, h: ApiHelpers, x: BundleIntake): void {
  app.post('/v1/bundles', async (c) => {
    h.requireAdmin(c);
    const text = await c.req.text();
    let entries: TlogEntryInput[];
    try {
      entries = parseTlogEntries(JSON.parse(text) as unknown);
    } catch (e) {
      throw apiError('API_BAD_REQUEST', `not a Sigstore bundle: ${describeError(e)}`);
    }
    const now = Math.floor((x.now ?? Date.now)() / 1000);
    const results: Outcome[] = [];
    const ops: BatchOp[] = [];
    for (const t of entries) {
      const r = await checkOne(x, t, text, now);
      results.push(r.outcome);
      ops.push(...r.ops);
    }
    await x.store.writeOps(ops);
    const split = results.some((r) => r.status === 'split-view');
    return c.json({ results }, split ? 409 : 200);
  });
}
