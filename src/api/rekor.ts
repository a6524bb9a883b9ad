/**
 * Rekor-compatible reads over the mirrored Rekor v1 log (reference/rekor.md §1.1–1.3), so existing Rekor
 * clients can use the mirror offline: the same JSON shapes, the upstream SETs unchanged, inclusion proofs
 * and checkpoints from the mirror's latest verified (upstream-signed) checkpoint.
 */
import type { Hono } from 'hono';
import { canonicalProposedEntry, pemEncode } from '../entries/proposed-entry.ts';
import { describeError, TlogwatchError } from '../errors.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import type { StoredRecord } from '../store/codec.ts';
import { digestToBytes } from '../store/codec.ts';
import { toBase64, toHex } from '../util/bytes.ts';
import type { ApiOptions } from './app.ts';
import { apiError } from './errors.ts';
import { identityLookup, type IndexLookup, MAX_SCANNED, PAGE, publicKeyLookup, rekorHash, retrieveEntries } from './index-retrieve.ts';
import { ENTRY_UUID_PATTERN, INT64_MAX, int64Query, MAX_SEARCH_QUERIES, parseSearchIndex, parseSearchLogQuery, patterned, queryValue, TREE_ID_PATTERN } from './rekor-swagger.ts';
import { consistencyProofView, inclusionProofView } from './views.ts';
import { retiredTree } from '../mirror/signed-tree.ts';
import { holdOf, type SearchGate, searchGate, scanKeysCost } from './search-gate.ts';

/**
 * An entry with its inclusion proof, counted in the entries the search bound counts: measured in-process on a
 * 20,000-entry Rekor v1 mirror (2026-11-30), reading an entry and proving it took 2.3–2.5 ms of CPU, a search
 * page's entry 49–58 µs (40–46×). Since proofs are read by tile with the upper nodes cached (store/tree-hashes.ts
 * readNodes), an entry with its proof on the API bench's 1M tiles store costs 0.9–2.1 ms in-process, cached or
 * not (BENCHMARKS.md "An entry with its inclusion proof"); the weight has not been measured again under load.
 */
const WITH_PROOF = 40;

export function rekorRoutes(app: Hono, o: ApiOptions, searches: SearchGate): void {
  const { store } = o;
  const v1Log = async () => {
    for (const name of o.logNames()) {
      const s = await store.readLogState(name);
      if (s?.type === 'rekor-v1') return s;
    }
    throw apiError('API_NOT_FOUND', 'no Rekor v1 log is mirrored here');
  };
  const treeIdHex = (treeID?: string) => (treeID ? BigInt(treeID).toString(16).padStart(16, '0') : '');

  /** The LogEntry at `index`; with `treeHex`, only if the entry is in that tree (an 80-hex entry ID's prefix). */
  async function logEntry(index: number, treeHex?: string): Promise<Record<string, unknown> | undefined> {
    const s = await v1Log();
    const got = await store.getEntry(s.name, index);
    if (!got?.record.v1 || (treeHex !== undefined && treeIdHex(got.record.v1.treeID) !== treeHex)) return undefined;
    const r: StoredRecord = got.record;
    let proof: Awaited<ReturnType<typeof inclusionProofView>> | undefined;
    try {
      proof = await inclusionProofView(store, s, r);
    } catch {
      proof = undefined; // not yet covered by a verified checkpoint, or outside the mirrored tree
    }
    return {
      [`${treeIdHex(r.v1!.treeID)}${r.entry.uuid}`]: {
        body: toBase64(got.body),
        integratedTime: r.entry.integratedTime,
        logID: r.v1!.logID,
        logIndex: r.entry.index,
        ...(r.attestation ? { attestation: { data: r.attestation } } : {}),
        verification: {
          ...(proof
            ? { inclusionProof: { checkpoint: proof.checkpoint, hashes: proof.hashes.map(toHex), logIndex: proof.logIndex, rootHash: toHex(proof.rootHash), treeSize: proof.treeSize } }
            : {}),
          ...(r.v1!.signedEntryTimestamp ? { signedEntryTimestamp: r.v1!.signedEntryTimestamp } : {}),
        },
      },
    };
  }

  /**
   * A `treeID` as Rekor's handlers read it after the schema's `^[0-9]+$` (tlog.go: strconv.ParseInt), so
   * `007` names tree 7; undefined when it is past int64, which Rekor refuses.
   */
  const treeIdNumber = (raw: string): string | undefined => {
    const n = BigInt(raw);
    return n <= INT64_MAX ? n.toString() : undefined;
  };

  // Rekor's routes take only the parameters openapi.yaml declares and ignore any other, as go-swagger's
  // binders do (rekor-swagger.ts): GET /api/v1/log declares none (`stable` included). Each signedTreeHead is
  // the note the mirror verified as it keeps it (checkpoint-decision.ts keptNote): the log's text and its
  // signature line, byte for byte. A Rekor v1 log signs its tree heads alone, so that is the note the log
  // served, unchanged; only lines of other keys, which no Rekor client verifies, would be left out.
  app.get('/api/v1/log', async (c) => {
    const s = await v1Log();
    if (!s.verified) throw apiError('API_UNAVAILABLE', 'no verified checkpoint yet');
    // Oldest first, as Rekor lists them: the trees before the one the mirror started in (their final signed
    // heads only), then the ones it followed to their end. Clients add their sizes up to place virtual indexes.
    const inactiveShards = (s.priorTrees ?? []).map((t) => ({ rootHash: toHex(t.head.rootHash), signedTreeHead: t.head.note, treeID: t.treeID, treeSize: Number(t.head.size) }));
    for (let seq = 0; seq < (s.shard?.seq ?? 0); seq++) {
      const cp = (await store.listCheckpoints(s.name, { limit: 1, tree: seq })).checkpoints[0];
      if (cp) inactiveShards.push({ rootHash: toHex(cp.rootHash), signedTreeHead: cp.note, treeID: /- (\d+)\n/.exec(cp.note)?.[1] ?? '', treeSize: Number(cp.size) });
    }
    // The trees listed must add up to where the followed one starts, or a client placing virtual indexes by
    // them would be off by the difference: say the list is not known yet rather than answer it short.
    const listed = inactiveShards.reduce((n, t) => n + BigInt(t.treeSize), 0n);
    if (listed !== (s.shard?.offset ?? 0n)) throw apiError('API_UNAVAILABLE', `the log's trees before index ${s.shard?.offset ?? 0n} are not all known to this mirror yet (${listed} entries listed)`);
    return c.json({ rootHash: toHex(s.verified.rootHash), signedTreeHead: s.verified.note, treeID: s.shard?.treeID ?? '', treeSize: Number(s.verified.size), inactiveShards });
  });
  /**
   * The log's key as Rekor serves it (pkg/api/public_key.go): PEM, of the active tree or of the tree
   * `treeID` names, 400 for a tree that is not the log's. Every Rekor v1 tree is signed with the trusted
   * root's one key for the log (rekor.md §1.5), which is what the mirror verifies them all with.
   */
  app.get('/api/v1/log/publicKey', async (c) => {
    const raw = queryValue(c.req.url, 'treeID');
    const treeID = raw === undefined ? undefined : treeIdNumber(patterned('treeID', 'query', raw, TREE_ID_PATTERN)) ?? raw;
    const s = await v1Log();
    const spki = o.logPublicKey?.(s.name);
    if (!spki) throw apiError('API_NOT_FOUND', 'the log\'s public key is not known to this mirror');
    if (treeID !== undefined && treeID !== s.shard?.treeID && !s.priorTrees?.some((t) => t.treeID === treeID) && !(/^\d{1,20}$/.test(treeID) && (await retiredTree(store, s, treeID)))) {
      throw apiError('API_BAD_REQUEST', `${treeID} is not a tree of this log that the mirror knows`);
    }
    return c.body(pemEncode('PUBLIC KEY', spki), 200, { 'content-type': 'application/x-pem-file' });
  });
  /**
   * Rekor's consistency proof (tlog.go GetLogProofHandler): firstSize (default 1) to lastSize, in the active
   * tree or the one `treeID` names, 400 when firstSize > lastSize, for a tree that is not one of the log's,
   * or when lastSize is past the tree's size.
   *
   * `rootHash` is the tree's current root, not the root at lastSize: Rekor answers with the root of the
   * SignedLogRoot Trillian returns with the proof, which is the latest one (Trillian's GetConsistencyProof
   * reads LatestSignedLogRoot), and rekor-cli prints it as "Current Root Hash" (cmd/rekor-cli/app/log_proof.go).
   * Clients verify the proof against roots they hold: rekor-cli loginfo and rekor-monitor use
   * pkg/verify ProveConsistency, which takes the new root from the checkpoint it fetched, never this field;
   * cosign and sigstore-js do not call this route. So the mirror answers as Rekor does: the root of its
   * latest verified checkpoint (for a retired shard, its final signed tree head), which no client is misled
   * by, since that is what the field names.
   */
  app.get('/api/v1/log/proof', async (c) => {
    const first = int64Query(c.req.url, 'firstSize', { minimum: 1 }) ?? 1n;
    const last = int64Query(c.req.url, 'lastSize', { required: true, minimum: 1 })!;
    const rawTree = queryValue(c.req.url, 'treeID');
    if (rawTree !== undefined) patterned('treeID', 'query', rawTree, TREE_ID_PATTERN);
    if (first > last) throw apiError('API_BAD_REQUEST', `firstSize(${first}) must be less than lastSize(${last})`);
    const s = await v1Log();
    // Rekor proves in any of its trees, the active one by default: a retired shard's proofs come from its
    // stored hashes, up to its final verified tree head.
    let tree: Awaited<ReturnType<typeof retiredTree>>;
    if (rawTree !== undefined) {
      const treeID = treeIdNumber(rawTree);
      if (treeID === undefined) throw apiError('API_BAD_REQUEST', `invalid tree ID specified: ${rawTree}`);
      if (treeID !== s.shard?.treeID) {
        tree = await retiredTree(store, s, treeID);
        if (!tree) throw apiError('API_BAD_REQUEST', `no log range found for tree ID ${treeID}`);
      }
    }
    const head = tree?.head ?? s.verified;
    if (!head) throw apiError('API_UNAVAILABLE', 'no verified checkpoint yet');
    if (last > head.size) throw apiError('API_BAD_REQUEST', `the tree size requested(${last}) was greater than what is currently observable(${head.size})`);
    const proof = await consistencyProofView(store, s, first, last, tree);
    return c.json({ hashes: proof.hashes.map(toHex), rootHash: toHex(head.rootHash) });
  });
  app.get('/api/v1/log/entries', async (c) => {
    const raw = int64Query(c.req.url, 'logIndex', { required: true, minimum: 0 })!;
    // An index past what a JS number holds exactly is past anything the mirror holds.
    const e = raw <= BigInt(Number.MAX_SAFE_INTEGER) ? await logEntry(Number(raw)) : undefined;
    if (!e) throw apiError('API_NOT_FOUND', `entry ${raw} is not in the mirror`);
    return c.json(e);
  });
  /**
   * Rekor's lookup by ID (rekor.md §1.5): an 80-hex entry ID names its tree, and only that tree is
   * searched; a bare 64-hex UUID is looked for in every tree, the active (newest) one first. Hex in
   * either case, as Rekor's pattern allows.
   */
  /** The mirrored Rekor v1 log's entries with this leaf hash (64 hex, lower case), oldest first. */
  const heldWithLeaf = async (uuid: string) => {
    const s = await v1Log();
    return (await store.getByUuid(uuid)).filter((r) => r.log === s.name).sort((a, b) => a.index - b.index);
  };
  /**
   * Why an 80-hex entry ID's tree part is not a tree ID, as Rekor's sharding.ValidateTreeID says: it must be
   * a non-zero int64 in hex (strconv.ParseInt(t, 16, 64)). Rekor refuses such an ID with 400 rather than
   * looking for it.
   */
  const badTreePart = (id: string): string | undefined => {
    if (id.length !== 80) return undefined;
    const tree = id.slice(0, 16);
    const n = BigInt(`0x${tree}`);
    return n === 0n ? '0 is not a valid TreeID' : n > INT64_MAX ? `${tree} is not a valid TreeID` : undefined;
  };
  const byUuid = async (raw: string) => {
    const id = raw.toLowerCase();
    const treeHex = id.length === 80 ? id.slice(0, 16) : undefined;
    for (const ref of (await heldWithLeaf(id.slice(-64))).reverse()) {
      const e = await logEntry(ref.index, treeHex);
      if (e) return e;
    }
    return undefined;
  };
  /** The entries with this leaf hash, one per tree that holds it, oldest tree first (Rekor searches AllShards). */
  const inEveryTree = async (uuid: string) => {
    const out = [];
    for (const ref of await heldWithLeaf(uuid.toLowerCase())) {
      const e = await logEntry(ref.index);
      if (e) out.push(e);
    }
    return out;
  };
  app.get('/api/v1/log/entries/:uuid', async (c) => {
    const id = patterned('entryUUID', 'path', c.req.param('uuid'), ENTRY_UUID_PATTERN);
    const bad = badTreePart(id);
    if (bad) throw apiError('API_BAD_REQUEST', `validation error: ${bad}`);
    const e = await byUuid(id);
    if (!e) throw apiError('API_NOT_FOUND', 'entry not found');
    return c.json(e);
  });
  // Through the search bound (search-gate.ts): each item is an entry and its proof, ~40 search entries'
  // worth; reserved for the most a request may ask until its body is read, then for what it asks.
  app.post('/api/v1/log/entries/retrieve', searchGate(searches, () => MAX_SEARCH_QUERIES * WITH_PROOF), async (c) => {
    // Each list 1 to 10 items, 10 in all (rekor-swagger.ts), refused with 422 as Rekor does.
    const query = parseSearchLogQuery(await c.req.text());
    await holdOf(c).resize((query.entryUUIDs.length + query.entries.length + query.logIndexes.length) * WITH_PROOF);
    // Rekor looks at the entry IDs first, and refuses the request at one it cannot read (SearchLogQueryHandler).
    const badId = query.entryUUIDs.find((u) => badTreePart(u) !== undefined);
    if (badId) throw apiError('API_BAD_REQUEST', `invalid entryID ${badId}`);
    // Rekor's order (SearchLogQueryHandler): entry IDs (80 hex) first, each in its own tree; then leaf
    // hashes, the UUIDs (64 hex) and the proposed entries' (canonical body, proposed-entry.ts), each
    // found in every tree that holds it; then indexes.
    const proposed = query.entries.map((p, i) => {
      try {
        return toHex(leafHash(canonicalProposedEntry(p)));
      } catch (e) {
        throw apiError('API_BAD_REQUEST', `entries[${i}]: ${e instanceof TlogwatchError ? e.message : describeError(e)}`);
      }
    });
    const ids = query.entryUUIDs;
    const out = [];
    for (const u of ids.filter((x) => x.length === 80)) {
      const e = await byUuid(u);
      if (e) out.push(e);
    }
    for (const h of [...ids.filter((x) => x.length === 64), ...proposed]) out.push(...(await inEveryTree(h)));
    for (const i of query.logIndexes) {
      const e = await logEntry(i);
      if (e) out.push(e);
    }
    return c.json(out);
  });
  // Through the search bound (search-gate.ts): it holds a page of its index scan, then each page of the
  // candidates it decodes (retrieveEntries), up to MAX_SCANNED entries in all.
  app.post('/api/v1/index/retrieve', searchGate(searches, () => scanKeysCost(PAGE)), async (c) => {
    // Validated as Rekor's schema validates it (rekor-swagger.ts): 422 for what it refuses.
    const q = parseSearchIndex(await c.req.text());
    const s = await v1Log();
    const lookups: IndexLookup[] = [];
    if (q.hash) lookups.push({ what: 'hash', field: 'DIGEST', values: [digestToBytes(rekorHash(q.hash))] });
    // Case-insensitive as Rekor's (rekor-case.ts), over the case-preserving SAN index /v1/search uses.
    if (q.email) lookups.push(await identityLookup(store, 'email', q.email));
    if (q.subject) lookups.push(await identityLookup(store, 'subject', q.subject));
    if (q.publicKey) lookups.push(publicKeyLookup(q.publicKey.format, q.publicKey.content));
    // A query with no value asks for nothing, and Rekor answers it with an empty list (index.go Values).
    if (lookups.length === 0) return c.json([]);
    // The records come from the one read that decided each candidate (index-retrieve.ts).
    const found = await retrieveEntries(store, s.name, lookups, q.operator, MAX_SCANNED, holdOf(c));
    return c.json(found.flatMap(({ record }) => (record.v1 ? [`${treeIdHex(record.v1.treeID)}${record.entry.uuid}`] : [])));
  });
}
