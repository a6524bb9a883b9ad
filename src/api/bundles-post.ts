/**
 * POST /v1/bundles (admin token): a pipeline hands the mirror the Sigstore bundle it just produced.
 *
 * The bundle's tlog entry must be the very leaf the log published to this mirror at that index, and the
 * bundle's checkpoint must agree with the mirror's verified history (same root at that size). A bundle
 * that disagrees is a split view only when the log signed its side: a SET over that index, or an
 * inclusion proof up to a checkpoint signed with the log's key (`checkLogSignatures`, as `tlogwatch
 * verify` checks them). Then it is a critical `log-integrity` finding with both sides as evidence;
 * otherwise anyone could have made the bundle, and it is refused (400) without a finding. A bundle whose
 * proofs or signatures fail is refused whatever it says, and so is one whose signature material (signatures,
 * certificate, digest, DSSE payload and payloadType) is not what its tlog entry's body records, unless the log signed a split
 * view (checkOne). A consistent bundle is stored, its in-toto statement's provenance
 * is evaluated against the rules (findings like any other), and its subject digests are indexed so a
 * search by artifact digest finds the attestation.
 */
import type { Hono } from 'hono';
import { ClaimsCache } from '../entries/certificate.ts';
import { decodeAnyBody } from '../entries/decode.ts';
import { parseTlogEntries, type TlogEntryInput } from '../entries/tlog-entry.ts';
import type { Entry } from '../entries/types.ts';
import { describeError } from '../errors.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import { withStatement } from '../mirror/ingest.ts';
import type { RuleSet } from '../monitor/compile.ts';
import { evaluateEntry } from '../monitor/evaluate.ts';
import type { CertificateAuthorities } from '../trust/certificate-authority.ts';
import { findingId, forkedTreeSubject, splitViewFinding, type Finding } from '../monitor/finding.ts';
import type { FindingRaiser } from '../monitor/raise.ts';
import { digestToBytes, type LogState, type StoredRecord } from '../store/codec.ts';
import { Bucket, Field, indexKey, key, MARKER, u16, u64 } from '../store/keys.ts';
import type { BatchOp } from '../store/level.ts';
import { FindingsRepo } from '../store/findings.ts';
import type { Store } from '../store/store.ts';
import { entryTime } from '../store/index-values.ts';
import type { TlogTrust } from '../trust/trusted-root.ts';
import { bytesEqual, toBase64, toHex } from '../util/bytes.ts';
import { bundleContentMismatch, kindVersionMismatch } from '../verify/bundle-content.ts';
import { checkLogSignatures, type LogSignatures } from '../verify/offline.ts';
import type { ApiHelpers } from './app.ts';
import { apiError } from './errors.ts';
import { judgeSignedTree } from '../mirror/signed-tree.ts';

export interface BundleIntake {
  store: Store;
  /** The logs this daemon follows: their names, keys from the trusted root, and origins (Rekor v1: the prefix). */
  logs: Array<{ name: string; tlog: TlogTrust; origin?: string }>;
  rules: () => RuleSet;
  /** Findings are raised through it once per ID (one this bundle raised before stands as it is). */
  raiser: FindingRaiser;
  /** The trusted root's CAs: findings say which issued the bundle's certificate (monitor/evaluate.ts evaluateEntry). */
  cas?: () => CertificateAuthorities;
  now?: () => number;
}

type Outcome =
  | { status: 'consistent'; log: string; index: number; findings: Finding[] }
  | { status: 'pending' | 'not-mirrored'; log: string; index: number; reason: string }
  | { status: 'split-view'; log: string; index: number; finding: Finding }
  /** Not evidence of anything: unsigned, failing proofs, an unknown log, signature material or a DSSE payload the entry does not record. */
  | { status: 'refused'; log: string | null; index: string; reason: string };

interface Judged {
  outcome: Outcome;
  /** The findings the outcome names, to raise. */
  findings: Finding[];
  /** What storing the bundle takes (a consistent bundle's copy and digest index keys). */
  ops: BatchOp[];
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

const refusal = (log: string | null, t: TlogEntryInput, reason: string): Judged => ({ outcome: { status: 'refused', log, index: t.logIndex.toString(), reason }, findings: [], ops: [] });
const claims = new ClaimsCache(256);

/**
 * The entry judged against the mirror (`judgeAgainstMirror`), then the bundle's signature material against
 * the body it comes with: a bundle whose signatures, certificate, digest or DSSE envelope are not what its
 * tlog entry records (verify/bundle-content.ts, as `tlogwatch verify`'s body check) is refused, consistent,
 * pending or not mirrored alike, so that it is never stored as the entry's bundle nor its statement taken.
 * A split view is recorded whatever the bundle carries beside: its evidence is what the log signed (body,
 * SET, proof and checkpoint), and a poster's stray signature does not make the log's fork any less one.
 */
async function checkOne(x: BundleIntake, t: TlogEntryInput, bundleJson: string, now: number): Promise<Judged> {
  const judged = await judgeAgainstMirror(x, t, bundleJson, now);
  const o = judged.outcome;
  if (o.status === 'split-view' || o.status === 'refused' || !t.bundleContent) return judged;
  const entry = decodeAnyBody(t.body, { log: o.log, index: o.index }, t.kind, t.version, { certificates: claims });
  // A body tlogwatch cannot decode records nothing to compare; the mirror keeps such entries as they are.
  // But the bundle's kindVersion picks the decoder: one that is not the body's must not make it such a body.
  const mismatch = kindVersionMismatch(t, entry) ?? (entry.problem ? undefined : bundleContentMismatch(t.bundleContent, t.body, entry));
  return mismatch ? refusal(o.log, t, `the bundle is not what its tlog entry ${o.log}#${o.index} records: ${mismatch}`) : judged;
}

async function judgeAgainstMirror(x: BundleIntake, t: TlogEntryInput, bundleJson: string, now: number): Promise<Judged> {
  const log = x.logs.find((l) => bytesEqual(l.tlog.keyId, t.logId));
  const refuse = (reason: string): Judged => refusal(log?.name ?? null, t, reason);
  if (!log) return refuse(`the bundle's log ${toHex(t.logId).slice(0, 16)}… is not one this mirror follows`);
  if (t.logIndex > BigInt(Number.MAX_SAFE_INTEGER)) return refuse(`the bundle's log index ${t.logIndex} is out of range`);
  // A bundle is evidence only of what its log signed: one whose proofs do not verify proves nothing, and
  // is not stored either.
  const sigs = checkLogSignatures(t, log.tlog, log.origin);
  if (sigs.errors.length) return refuse(`the bundle's log signatures do not verify: ${sigs.errors.join('; ')}`);
  const index = Number(t.logIndex);
  const state: LogState | undefined = await x.store.getLogState(log.name);
  if (!state) return { outcome: { status: 'pending', log: log.name, index, reason: 'the mirror has not bootstrapped this log yet' }, findings: [], ops: [] };
  const split = (about: string, message: string, evidence: Record<string, unknown>): Judged => {
    const f = splitViewFinding(log.name, about, message, { ...bundleEvidence(t), ...evidence, mirrorCheckpoint: state.verified?.note ?? null }, now, index);
    return { outcome: { status: 'split-view', log: log.name, index, finding: f }, findings: [f], ops: [] };
  };

  // A tree head the log signed must be a root of the history the mirror verified, whatever the bundle's
  // index says (only a SET ties the index to anything).
  const signed = sigs.signedTree;
  const judged = signed && (await judgeSignedTree(x.store, state, signed));
  const forkedHead =
    signed && judged?.kind === 'forked' ? { tree: judged.seq, note: judged.mirrorNote, size: signed.size, bundleRoot: toHex(signed.rootHash), mirrorRoot: toHex(judged.mirrorRoot) } : undefined;
  const headSplit = (h: NonNullable<typeof forkedHead>) =>
    split(forkedTreeSubject(h.tree, h.size, h.bundleRoot), `the log signed a tree head of size ${h.size} whose root is not in the history it published to this mirror`, {
      bundleRoot: h.bundleRoot,
      mirrorRoot: h.mirrorRoot,
      mirrorCheckpoint: h.note,
    });
  // A signed tree head the mirror has not verified its tree up to: neither consistent nor forked yet.
  const headAhead: Judged | undefined =
    signed && judged?.kind === 'ahead'
      ? { outcome: { status: 'pending', log: log.name, index, reason: `the bundle's tree head of size ${signed.size} is past the ${judged.verified} entries of its tree the mirror has verified; post again later` }, findings: [], ops: [] }
      : undefined;

  // The entry: judged only where the mirror has verified the log, since entries past its verified
  // checkpoint are fetched but not yet proven (a tiles log's, until their checkpoint's root is recomputed).
  const verifiedEnd = Number((state.shard?.offset ?? 0n) + (state.verified?.size ?? 0n));
  const unjudged: Outcome | undefined =
    index < Number(state.startIndex)
      ? { status: 'not-mirrored', log: log.name, index, reason: `the mirror started at ${state.startIndex}` }
      : index >= verifiedEnd
        ? { status: 'pending', log: log.name, index, reason: `the mirror has verified the log up to ${verifiedEnd}; post again later` }
        : undefined;
  if (unjudged) return forkedHead ? headSplit(forkedHead) : { outcome: unjudged, findings: [], ops: [] };
  const stored = await x.store.getEntry(log.name, index);
  const leaf = toHex(leafHash(t.body));
  if (!stored || stored.record.entry.leafHash !== leaf) {
    const placed = signedAtIndex(t, sigs, state, stored?.record);
    // The most precise finding first: the entry the log signed at that index, with the tree head when it forked too.
    const headEvidence = forkedHead ? { bundleRoot: forkedHead.bundleRoot, mirrorRoot: forkedHead.mirrorRoot } : {};
    if (placed && stored) return split(`entry:${index}:${leaf}`, `the log signed another entry ${index} than the one it published to this mirror`, { mirroredLeafHash: stored.record.entry.leafHash, ...headEvidence });
    if (placed) return split(`entry:${index}:${leaf}`, `the log signed an entry ${index} it never published to this mirror`, headEvidence);
    if (forkedHead) return headSplit(forkedHead);
    if (headAhead) return headAhead;
    const what = stored ? `the bundle's entry ${index} differs from the one the log published to this mirror` : `the bundle claims entry ${index}, which the log never published to this mirror`;
    return refuse(`${what}, and nothing the log signed puts it there (a signed entry timestamp, or an inclusion proof up to a checkpoint signed by the log): not evidence of a split view`);
  }
  if (forkedHead) return headSplit(forkedHead);
  if (headAhead) return headAhead;
  const entry: Entry = { ...stored.record.entry };
  const env = t.bundleContent?.dsseEnvelope;
  // The envelope is the poster's: it counts only when its payload is the one the logged body commits to.
  if (env && !withStatement(entry, env.payload, 'bundle', env.payloadType)) {
    return refuse(`the bundle's DSSE payload is not the one its tlog entry ${log.name}#${index} commits to (its payload hash)`);
  }
  const logId = await x.store.logId(log.name);
  // The bundle as posted: the record behind the findings and index keys it adds.
  const ops: BatchOp[] = [{ type: 'put', key: key(Bucket.BUNDLE, u16(logId), u64(index)), value: Buffer.from(bundleJson) }];
  for (const d of entry.digests) if (!stored.record.entry.digests.includes(d)) ops.push({ type: 'put', key: indexKey(Field.DIGEST, digestToBytes(d), entryTime(entry), logId, index), value: MARKER });
  // evaluateEntry, not evaluateLogged: the body is the mirror's own (its leaf hash is the stored entry's), so
  // the mirror judged it under `undecoded-entry` when it ingested it; what the bundle adds (a DSSE payload)
  // can make a rule match, but is not in the body that rule reads.
  const evaluated = await Promise.all(evaluateEntry(x.rules(), entry, now, { cas: x.cas?.() }).map((f) => seenAtIngest(x.store, f, log.name, index)));
  const findings = evaluated.filter((j) => !j.known).map((j) => j.finding);
  return { outcome: { status: 'consistent', log: log.name, index, findings: evaluated.map((j) => j.finding) }, findings, ops };
}

/** A finding's breaks, by expectation and message (which names the signer of a multi-signer entry). */
const breaks = (f: Finding): string[] => {
  const v = f.evidence?.['violations'];
  return Array.isArray(v) ? v.map((b: { expectation?: unknown; message?: unknown }) => `${String(b.expectation)}\u0000${String(b.message)}`) : [];
};

/**
 * The finding a bundle's evaluation comes to for `rule`: the one the mirror raised when it ingested the
 * entry (under the same rules, so the same breaks, unless the bundle's DSSE payload adds some), as it stands,
 * acknowledgement and all; else the bundle's own, under an id of its own (`INDEX:bundle`). Raising the
 * bundle's beside the mirror's would notify the same break twice, open again what an operator acked.
 */
async function seenAtIngest(store: Store, f: Finding, log: string, index: number): Promise<{ finding: Finding; known: boolean }> {
  const mirrored = await new FindingsRepo(store).get(findingId(f.rule, log, String(index)));
  if (mirrored) {
    const had = new Set(breaks(mirrored));
    if (breaks(f).every((b) => had.has(b))) return { finding: mirrored, known: true };
  }
  return { finding: { ...f, id: findingId(f.rule, log, `${index}:bundle`) }, known: false };
}

/**
 * Raises `findings` with `ops` in one batch and returns the outcomes with each finding as it stands: one
 * this bundle (or a checkpoint source, for a forked tree head) raised before keeps its status and
 * acknowledgement, and is not notified again.
 */
async function raised(x: BundleIntake, judged: readonly Judged[], findings: readonly Finding[], ops: readonly BatchOp[]): Promise<Outcome[]> {
  const stood = new Map((await x.raiser.raise(findings, ops)).map((r) => [r.finding.id, r.finding]));
  const asStored = (f: Finding) => stood.get(f.id) ?? f;
  return judged.map(({ outcome: o }) =>
    o.status === 'split-view' ? { ...o, finding: asStored(o.finding) } : o.status === 'consistent' ? { ...o, findings: o.findings.map(asStored) } : o,
  );
}

/**
 * Each tlog entry of the bundle is judged on its own. Split views the log signed are recorded whatever
 * else the bundle holds (409). Otherwise a refused entry refuses the bundle (400, nothing stored), and a
 * bundle of consistent, pending or not-mirrored entries is stored (200).
 */
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
    const judged: Judged[] = [];
    for (const t of entries) judged.push(await checkOne(x, t, text, now));
    const refused = judged.filter((j) => j.outcome.status === 'refused').map((j) => j.outcome as Extract<Outcome, { status: 'refused' }>);
    const splits = judged.filter((j) => j.outcome.status === 'split-view');
    if (splits.length > 0) return c.json({ results: await raised(x, judged, splits.flatMap((j) => j.findings), []) }, 409);
    if (refused.length > 0) throw apiError('API_BAD_REQUEST', refused.map((r) => (entries.length > 1 ? `${r.log ?? 'unknown log'}#${r.index}: ${r.reason}` : r.reason)).join('; '));
    return c.json({ results: await raised(x, judged, judged.flatMap((j) => j.findings), judged.flatMap((j) => j.ops)) }, 200);
  });
}
