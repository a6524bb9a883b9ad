/**
 * A Rekor v1 checkpoint's origin line: `<signer name> - <treeID>`, one tree per shard (rekor.md §1.8).
 * Where the mirror builds it to verify a tree head and where it reads a tree ID back from one.
 */

/** The origin the log's checkpoints of tree `treeID` carry. */
export function shardOrigin(name: string, treeID: string): string {
  return `${name} - ${treeID}`;
}

/** The tree ID in a Rekor v1 checkpoint origin `<name> - <treeID>`, or undefined when it is not the log's. */
export function v1TreeOf(origin: string, name: string): string | undefined {
  if (!origin.startsWith(`${name} - `)) return undefined;
  const id = origin.slice(name.length + 3);
  return /^\d{1,20}$/.test(id) ? id : undefined;
}

/**
 * The tree ID a stored note's origin line ends with, whatever the name before it: for notes the mirror
 * verified against `shardOrigin` before it kept them, so the name was checked then.
 */
export function treeIdOfNote(note: string): string | undefined {
  return / - (\d+)$/.exec(note.slice(0, note.indexOf('\n')))?.[1];
}
