/**
 * Offline verification of one transparency-log entry (`tlogwatch verify`), pure: six checks, each
 * `ok | fail | absent` (DESIGN.md "Stable contracts", and the two it adds below).
 *
 * - body: the canonical body decodes, and records what the bundle carries (digest, DSSE payload,
 *   signatures and certificate: bundle-content.ts);
 * - inclusion: RFC 9162 §2.1.3.2 with the proof's own (shard-local for Rekor v1) index and tree size,
 *   which must place the entry at the index it reports (a tiles log's leaf index; never above a Rekor v1 virtual index);
 * - checkpoint: the proof's signed note verifies with the log's key from the trusted root, names the
 *   log's origin, and commits to the proof's size and root;
 * - set: the Rekor v1 signed entry timestamp over the virtual index (rekor.md §1.7), dated within the
 *   validity of the log's key in the trusted root;
 * - tsa: every RFC 3161 timestamp the bundle carries verifies with a timestamp authority of the trusted
 *   root, over the bundle's signature (rfc3161.ts);
 * - certificate: the signing certificate was valid at every signed time: the SET's integrated time and
 *   each timestamp's (Sigstore client spec §4.2, §4.3; the "hybrid model"). An integrated time no SET
 *   signs is not one: anyone can write it. A bundle signed with a certificate and no signed time at all
 *   fails, as sigstore-js (timestampThreshold 1), sigstore-python ("not enough sources of verified time")
 *   and cosign (WithIntegratedTimestamps / WithSignedTimestamps) reject it, and as sigstore-conformance's
 *   `rekor2-no-timestamp_fail` expects: Rekor v2 has no integrated time, so its bundles need a timestamp.
 *   A bare log entry (a Rekor v1 or v2 API response) carries no timestamp and is no signature anyone
 *   relies on: its certificate is `absent`, with a warning that it could not be judged.
 * `ok` = no check failed, and (inclusion and checkpoint ok, or set ok).
 */
import { ClaimsCache } from '../entries/certificate.ts';
import { decodeAnyBody } from '../entries/decode.ts';
import { verifySET } from '../entries/set.ts';
import type { TlogEntryInput } from '../entries/tlog-entry.ts';
import type { Entry } from '../entries/types.ts';
import { describeError } from '../errors.ts';
import { verifyInclusion } from '../merkle/proof.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import { cosignaturesOf, describeCosignatures, type WitnessPolicy } from '../note/witness-policy.ts';
import { verifyLogCheckpoint, type SignedTree } from '../trust/log-checkpoint.ts';
import { findTlogByKeyId, validAt, type TlogTrust, type TrustedRoot } from '../trust/trusted-root.ts';
import { bytesEqual } from '../util/bytes.ts';
import { signersOf } from '../monitor/eval/values.ts';
import type { BundleContent } from '../entries/tlog-entry.ts';
import { bundleContentMismatch, kindVersionMismatch } from './bundle-content.ts';
import { verifyRfc3161Timestamp } from './rfc3161.ts';

export type CheckResult = 'ok' | 'fail' | 'absent';

/** A time something the trusted root vouches for signed: the log (its SET), or a timestamp authority. */
export type SignedTime = { by: 'set'; log: string; time: Date } | { by: 'tsa'; tsa: string; time: Date };

export interface VerifyResult {
  log: string;
  logIndex: string;
  /** `witnessed` only when a witness policy was asked for: whether the proof's checkpoint met it. */
  checks: { body: CheckResult; inclusion: CheckResult; checkpoint: CheckResult; set: CheckResult; tsa: CheckResult; certificate: CheckResult; witnessed?: 'ok' | 'fail' };
  /** The verified signed times, the SET's first: those the certificate was judged at. */
  signedTimes: SignedTime[];
  ok: boolean;
  /** Why each failed check failed, joined. */
  error?: string;
  /** What could not be judged without failing the entry: a bare log entry's certificate with no signed time. */
  warning?: string;
  entry: Entry;
}

const certs = new ClaimsCache(256);

function checkBody(t: TlogEntryInput, entry: Entry): string | undefined {
  if (entry.problem) return `body: ${entry.problem.message}`;
  return kindVersionMismatch(t, entry) ?? (t.bundleContent && bundleContentMismatch(t.bundleContent, t.body, entry));
}

/**
 * The bundle's RFC 3161 timestamps, each over the signature the bundle carries (the message signature, or
 * the DSSE envelope's first, as sigstore-js and sigstore-go take it). Any that fails fails the check: the
 * client spec §4.2.1 has the verifier abort, as sigstore-js does.
 */
function checkTimestamps(b: BundleContent | undefined, trust: TrustedRoot): { result: CheckResult; times: SignedTime[]; errors: string[] } {
  const tokens = b?.timestamps ?? [];
  if (!b || tokens.length === 0) return { result: 'absent', times: [], errors: [] };
  const signature = b.messageSignature ?? b.dsseEnvelope?.signatures[0]?.sig ?? new Uint8Array();
  const times: SignedTime[] = [];
  const errors: string[] = [];
  tokens.forEach((der, i) => {
    try {
      times.push({ by: 'tsa', ...verifyRfc3161Timestamp(der, signature, trust.timestampAuthorities) });
    } catch (e) {
      errors.push(`tsa: timestamp ${i + 1} of ${tokens.length}: ${describeError(e)}`);
    }
  });
  return { result: errors.length ? 'fail' : 'ok', times, errors };
}

/** ISO 8601, or what it is when it is none (a SET may sign any integer: toISOString would throw). */
export const isoTime = (d: Date) => (Number.isFinite(d.getTime()) ? d.toISOString() : `${d.getTime()} (not a time)`);
const iso = (seconds: number) => isoTime(new Date(seconds * 1000));
const describeSignedTime = (s: SignedTime) => `${s.by === 'set' ? `the SET of ${s.log}` : `the RFC 3161 timestamp of ${s.tsa}`} dates it ${isoTime(s.time)}`;

/**
 * Whether every signing certificate the body records was valid at every signed time (client spec §4.3:
 * validation with each, all must pass). Times no one signed are never used.
 */
function checkCertificate(t: TlogEntryInput, entry: Entry, times: readonly SignedTime[]): { result: CheckResult; error?: string; warning?: string } {
  const certs = signersOf(entry).filter((s) => s.type === 'x509');
  if (entry.problem || certs.length === 0) return { result: 'absent' };
  if (times.length === 0) {
    const logged = t.integratedTime === undefined ? 'the entry has no integrated time (Rekor v2) and no SET' : `the entry's integrated time ${iso(Number(t.integratedTime))} is signed by no SET`;
    const stamps = t.bundleContent?.timestamps?.length ?? 0;
    const none = !t.bundleContent ? 'a bare log entry carries no RFC 3161 timestamp' : stamps === 1 ? "the bundle's RFC 3161 timestamp did not verify" : stamps ? `none of the bundle's ${stamps} RFC 3161 timestamps verified` : 'the bundle carries no RFC 3161 timestamp';
    const why = `the certificate's validity could not be judged from a signed time: ${logged}, and ${none}`;
    return t.bundleContent ? { result: 'fail', error: `${why} (Sigstore clients reject such a bundle)` } : { result: 'absent', warning: why };
  }
  for (const { notBefore, notAfter } of certs) {
    if (notBefore === undefined || notAfter === undefined) return { result: 'fail', error: 'the certificate\'s validity period could not be read' };
    // Both ends included (RFC 5280 §4.1.2.5); a time that is none (NaN) is inside no period.
    const outside = times.find((s) => !(s.time.getTime() >= notBefore * 1000 && s.time.getTime() <= notAfter * 1000));
    if (outside) return { result: 'fail', error: `the certificate is valid ${iso(notBefore)}–${iso(notAfter)}, but ${describeSignedTime(outside)}` };
  }
  return { result: 'ok' };
}

/** The checks of what the log signed about an entry, without its body's: `verifyTlogEntry`'s inclusion, checkpoint and set. */
export interface LogSignatures {
  checks: Pick<VerifyResult['checks'], 'inclusion' | 'checkpoint' | 'set'>;
  /** Why each failed check failed. */
  errors: string[];
  /** The proof's checkpoint when it verified: the tree the log signed, the Rekor v1 tree ID read from its origin. */
  signedTree?: SignedTree;
}

/**
 * The log's own signatures over an entry: the inclusion proof (RFC 9162 §2.1.3.2, its own index and tree
 * size) up to a checkpoint signed with the log's key from the trusted root that names the log's origin
 * (rekor.md §1.8: `<host> - <treeID>` for Rekor v1; c2sp.md §1.2), and the Rekor v1 SET (rekor.md §1.7).
 * `origin` is the log's origin (Rekor v1: its prefix) when configured otherwise than the trusted root's
 * name. Pure; `tlog` undefined fails the signature checks that are present.
 */
export function checkLogSignatures(t: TlogEntryInput, tlog: TlogTrust | undefined, origin = tlog?.name): LogSignatures {
  const checks: LogSignatures['checks'] = { inclusion: 'absent', checkpoint: 'absent', set: 'absent' };
  const errors: string[] = [];
  let signedTree: LogSignatures['signedTree'];
  const fail = (k: keyof LogSignatures['checks'], why: string) => {
    checks[k] = 'fail';
    errors.push(`${k}: ${why}`);
  };
  const p = t.inclusionProof;
  if (p) {
    try {
      verifyInclusion(p.logIndex, p.treeSize, leafHash(t.body), p.hashes, p.rootHash);
      // The proof places the body at its own index; the index the entry reports must be that place, or a
      // bundle could name any index and still pass. A tiles log's index is its leaf index (rekor.md §3.2);
      // a Rekor v1 virtual index is the tree's offset plus the tree index (§1.5), so never below it (the
      // offset itself is not in the trusted root: the SET is what signs the virtual index, §1.7).
      const type = tlog?.type ?? (t.source === 'rekor-v1' ? 'rekor-v1' : undefined);
      if (type === 'tiles' && p.logIndex !== t.logIndex) throw new Error(`the proof is for index ${p.logIndex} but the entry says ${t.logIndex}`);
      if (type === 'rekor-v1' && t.logIndex < p.logIndex) throw new Error(`the entry's index ${t.logIndex} is below the proof's tree index ${p.logIndex}, which a virtual index never is`);
      checks.inclusion = 'ok';
    } catch (e) {
      fail('inclusion', describeError(e));
    }
    if (p.checkpoint !== undefined) {
      try {
        if (!tlog) throw new Error('no key for this log');
        const tree = verifyLogCheckpoint(p.checkpoint, tlog, origin ?? tlog.name);
        if (tree.size !== p.treeSize || !bytesEqual(tree.rootHash, p.rootHash)) throw new Error('checkpoint does not commit to the proof\'s tree size and root');
        checks.checkpoint = 'ok';
        signedTree = tree;
      } catch (e) {
        fail('checkpoint', describeError(e));
      }
    }
  }
  if (t.set) {
    try {
      if (!tlog) throw new Error('no key for this log');
      if (t.integratedTime === undefined) throw new Error('no integrated time');
      // The trusted root vouches for a key only over its validFor (sigstore_trustroot.proto
      // TransparencyLogInstance.public_key.valid_for): a SET dated outside it is not one the root trusts,
      // be it a retired key's or one signed before the key was the log's.
      const at = new Date(Number(t.integratedTime) * 1000);
      if (!validAt(tlog, at)) throw new Error(`integrated at ${at.toISOString()}, outside the validity of the log's key in the trusted root (${tlog.validFrom?.toISOString() ?? '…'}–${tlog.validUntil?.toISOString() ?? '…'})`);
      verifySET({ body: t.body, integratedTime: t.integratedTime, logId: t.logId, logIndex: t.logIndex, set: t.set }, tlog.spki);
      checks.set = 'ok';
    } catch (e) {
      fail('set', describeError(e));
    }
  }
  return { checks, errors, ...(signedTree ? { signedTree } : {}) };
}


/**
 * Checks an entry as a client would, offline: its body against what it commits to, the log's signatures
 * over it, and, given a witness policy, that the checkpoint its inclusion proof ends in was cosigned by a
 * quorum of those witnesses (note/witness-policy.ts; an entry without a verified checkpoint cannot meet it).
 */
export function verifyTlogEntry(t: TlogEntryInput, trust: TrustedRoot, witnesses?: WitnessPolicy): VerifyResult {
  const errors: string[] = [];
  const tlog = findTlogByKeyId(trust, t.logId);
  const entry = decodeAnyBody(t.body, { log: tlog?.name ?? 'unknown', index: Number(t.logIndex), ...(t.integratedTime !== undefined ? { integratedTime: Number(t.integratedTime) } : {}) }, t.kind, t.version, { certificates: certs });
  const checks: VerifyResult['checks'] = { body: 'ok', inclusion: 'absent', checkpoint: 'absent', set: 'absent', tsa: 'absent', certificate: 'absent' };
  const fail = (k: keyof VerifyResult['checks'], why: string) => {
    checks[k] = 'fail';
    errors.push(`${k}: ${why}`);
  };
  const bodyError = checkBody(t, entry);
  if (bodyError) fail('body', bodyError);
  if (!tlog) errors.push(`log ${Buffer.from(t.logId).toString('hex').slice(0, 16)}… is not in the trusted root`);

  const sigs = checkLogSignatures(t, tlog);
  Object.assign(checks, sigs.checks);
  errors.push(...sigs.errors);
  // Only what the trusted root vouches for dates the signature: the SET that verified, and the timestamps.
  const stamps = checkTimestamps(t.bundleContent, trust);
  checks.tsa = stamps.result;
  errors.push(...stamps.errors);
  const signedTimes: SignedTime[] = [...(checks.set === 'ok' && tlog ? [{ by: 'set' as const, log: tlog.name, time: new Date(Number(t.integratedTime) * 1000) }] : []), ...stamps.times];
  const cert = checkCertificate(t, entry, signedTimes);
  checks.certificate = cert.result;
  if (cert.error) errors.push(`certificate: ${cert.error}`);
  if (witnesses) {
    if (!sigs.signedTree) fail('witnessed', 'no verified checkpoint for the witnesses to have cosigned');
    else {
      const c = cosignaturesOf(sigs.signedTree.note, witnesses);
      if (c.witnessed) checks.witnessed = 'ok';
      else fail('witnessed', `the checkpoint is ${describeCosignatures(c, witnesses)}`);
    }
  }
  const anyFail = Object.values(checks).includes('fail');
  const proven = (checks.inclusion === 'ok' && checks.checkpoint === 'ok') || checks.set === 'ok';
  if (!anyFail && !proven) errors.push('no inclusion proof with a checkpoint, and no signed entry timestamp: nothing shows the log included this entry');
  return {
    log: tlog?.name ?? 'unknown',
    logIndex: t.logIndex.toString(),
    checks,
    signedTimes,
    ok: !anyFail && proven,
    ...(errors.length ? { error: errors.join('; ') } : {}),
    ...(cert.warning ? { warning: cert.warning } : {}),
    entry,
  };
}
