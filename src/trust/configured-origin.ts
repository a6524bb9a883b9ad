/**
 * A configured log's `origin` against what the trusted root says of that log, before anything is fetched.
 * tlogwatch verifies a log's checkpoints only under the name the trusted root gives it (trusted-root.ts
 * `checkpointVerifierForTlog`: the host and path of its base URL), so an `origin` that cannot be the one
 * the log's checkpoints carry would have every checkpoint refused and the log halted as misbehaving, a
 * false log-integrity finding that pages people for the operator's typo. Known before fetching:
 *
 * - Rekor v1: `origin` is the signer name. Rekor signs as its hostname and names each tree
 *   `<hostname> - <treeID>` (rekor.md §1.8), so it must be the trusted root's name, without a tree ID,
 *   which changes when the log is sharded.
 * - Tiles, when the key ID commits to the key's name (Ed25519, the C2SP key ID): a Rekor v2 log's origin
 *   is its key name (rekor.md §3.3).
 *
 * A tiles log whose key ID is SHA-256(SPKI) (ECDSA) states no origin: the key ID names nothing, and a
 * checkpoint's origin may differ from its key name (c2sp.md §1.2: sum.golang.org), so any is accepted.
 * Pure.
 */
import { v1TreeOf } from './log-checkpoint.ts';
import { keyIdNamesLog, type TlogTrust, type TrustedRoot } from './trusted-root.ts';

/** A configured log as the check needs it. */
export interface ConfiguredLog {
  name: string;
  type: 'tiles' | 'rekor-v1';
  url: string;
  origin?: string | undefined;
}

const q = (s: string) => JSON.stringify(s);

/**
 * Why `log`'s configured origin cannot be that of `tlog`, its trusted-root entry (what to change
 * included), or undefined when it can be, or none is configured.
 */
export function configuredOriginProblem(log: ConfiguredLog, tlog: TlogTrust, root: TrustedRoot): string | undefined {
  const { origin } = log;
  if (origin === undefined || origin === tlog.name) return undefined;
  const fix = `remove \`origin\` (it defaults to the trusted root's) or set it to ${q(tlog.name)}`;
  const at = `log ${log.name} (${log.url})`;
  if (log.type === 'rekor-v1') {
    if (v1TreeOf(origin, tlog.name) !== undefined) {
      return `${at}: origin ${q(origin)} names one tree of this Rekor v1 log: for a Rekor v1 log \`origin\` is the signer name, ${q(tlog.name)}, and each checkpoint's origin adds the ID of the tree it is of (" - <treeID>"), which changes when the log is sharded; ${fix}`;
    }
    return `${at}: origin ${q(origin)} is not the signer name the trusted root gives this Rekor v1 log, ${q(tlog.name)}: its checkpoints are signed as ${tlog.name}, with the origin "${tlog.name} - <treeID>", and each would be refused as the log's misbehaviour (the log halted); ${fix}${elsewhere(origin, root, tlog)}`;
  }
  if (!keyIdNamesLog(tlog)) return undefined;
  return `${at}: origin ${q(origin)} is not this log's origin in the trusted root, ${q(tlog.name)}: its key ID is the checkpoint key ID under that name, and a Rekor v2 log's origin is its key name, so each checkpoint would be refused as the log's misbehaviour (the log halted); ${fix}${elsewhere(origin, root, tlog)}`;
}

/** When the configured origin is another log's of the root: the URL that follows that log. */
function elsewhere(origin: string, root: TrustedRoot, tlog: TlogTrust): string {
  const other = root.tlogs.find((t) => t !== tlog && t.name === origin && t.baseUrl !== tlog.baseUrl);
  return other ? `; ${q(origin)} is the trusted root's log at ${other.baseUrl}: to follow that log, set \`url\` to it` : '';
}
