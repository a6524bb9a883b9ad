/**
 * POST /v1/bundles (admin token): a pipeline hands the mirror the Sigstore bundle it just produced.
 *
 * The bundle's tlog entry must be the very leaf the log published to this mirror at that index, and the
 * bundle's checkpoint must agree with the mirror's verified history (same root at that size). Anything
 * else is a split view, or an entry the log never published to the mirror: a critical `log-integrity`
 * finding with both sides as evidence. A consistent bundle is stored, its in-toto statement's provenance
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
import { digestToBytes, localStartIndex, type LogState } from '../store/codec.ts';
import { Bucket, Field, indexKey, key, MARKER, u16, u64 } from '../store/keys.ts';
import type { BatchOp } from '../store/level.ts';
import type { Store } from '../store/store.ts';
import { entryTime } from '../store/index-values.ts';
import { bytesEqual, toBase64, toHex } from '../util/bytes.ts';
import type { ApiHelpers } from './app.ts';
import { apiError } from './errors.ts';

export interface BundleIntake {
  store: Store;
  /** Log name → key ID (from the trusted root) for the logs this daemon follows. */
  logs: Array<{ name: string; keyId: Uint8Array }>;
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

async function checkOne(x: BundleIntake, t: TlogEntryInput, bundleJson: string, now: number): Promise<{ outcome: Outcome; ops: BatchOp[] }> {
  const log = x.logs.find((l) => bytesEqual(l.keyId, t.logId));
  if (!log) throw apiError('API_BAD_REQUEST', `the bundle's log ${toHex(t.logId).slice(0, 16)}… is not one this mirror follows`);
  const index = Number(t.logIndex);
  const state: LogState | undefined = await x.store.getLogState(log.name);
  const stored = await x.store.getEntry(log.name, index);
  const leaf = leafHash(t.body);
  if (!state) return { outcome: { status: 'pending', log: log.name, index, reason: 'the mirror has not bootstrapped this log yet' }, ops: [] };
  if (!stored) {
    const verifiedEnd = Number((state.shard?.offset ?? 0n) + (state.verified?.size ?? 0n));
    if (index < Number(state.startIndex)) return { outcome: { status: 'not-mirrored', log: log.name, index, reason: `the mirror started at ${state.startIndex}` }, ops: [] };
    if (index >= verifiedEnd) return { outcome: { status: 'pending', log: log.name, index, reason: `the mirror has verified the log up to ${verifiedEnd}; post again later` }, ops: [] };
    const f = splitView(log.name, index, now, `a bundle claims entry ${index}, which the log never published to this mirror`, { bundleLeafHash: toHex(leaf) });
    return { outcome: { status: 'split-view', log: log.name, index, finding: f }, ops: x.write(f) };
  }
  if (stored.record.entry.leafHash !== toHex(leaf)) {
    const f = splitView(log.name, index, now, `the bundle's entry ${index} differs from the one the log published to this mirror`, { bundleLeafHash: toHex(leaf), mirroredLeafHash: stored.record.entry.leafHash, bundleBody: toBase64(t.body) });
    return { outcome: { status: 'split-view', log: log.name, index, finding: f }, ops: x.write(f) };
  }
  // The bundle's tree head must be a root of the same history the mirror verified (single-tree logs;
  // the signature and inclusion proof themselves are `tlogwatch verify`'s checks).
  const p = t.inclusionProof;
  const singleTree = !state.shard || (state.shard.seq === 0 && state.shard.offset === 0n);
  if (p && state.verified && singleTree && localStartIndex(state) === 0n && p.treeSize <= state.verified.size) {
    {
      const mine = await treeRootAsync(p.treeSize, x.store.hashReader(log.name, 0)).catch(() => undefined);
      if (mine && !bytesEqual(mine, p.rootHash)) {
        const f = splitView(log.name, index, now, `the bundle's tree head of size ${p.treeSize} has a root the mirror's verified history does not`, { bundleCheckpoint: p.checkpoint ?? null, bundleRoot: toBase64(p.rootHash), mirrorRoot: toBase64(mine), mirrorCheckpoint: state.verified.note });
        return { outcome: { status: 'split-view', log: log.name, index, finding: f }, ops: x.write(f) };
      }
    }
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
