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
import { identityLookup, type IndexLookup, publicKeyLookup, rekorHash, retrieveEntries } from './index-retrieve.ts';
import { IndexRetrieveBody, LogEntriesQuery, LogInfoQuery, LogProofQuery, NoQuery, parseQuery, PublicKeyQuery, RetrieveBody, Uuid } from './params.ts';
import { consistencyProofView, inclusionProofView } from './views.ts';
import { retiredTree } from '../mirror/signed-tree.ts';

export function rekorRoutes(app: Hono, o: ApiOptions): void {
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

  const readJson = async (req: Request): Promise<unknown> => {
    try {
      return (await req.json());
    } catch {
      throw apiError('API_BAD_REQUEST', 'request body is not JSON');
    }
  };

  app.get('/api/v1/log', async (c) => {
    parseQuery(c.req.url, LogInfoQuery);
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
    const { treeID } = parseQuery(c.req.url, PublicKeyQuery);
    const s = await v1Log();
    const spki = o.logPublicKey?.(s.name);
    if (!spki) throw apiError('API_NOT_FOUND', 'the log\'s public key is not known to this mirror');
    if (treeID !== undefined && treeID !== s.shard?.treeID && !s.priorTrees?.some((t) => t.treeID === treeID) && !(/^\d{1,20}$/.test(treeID) && (await retiredTree(store, s, treeID)))) {
      throw apiError('API_BAD_REQUEST', `${treeID} is not a tree of this log that the mirror knows`);
    }
    return c.body(pemEncode('PUBLIC KEY', spki), 200, { 'content-type': 'application/x-pem-file' });
  });
  app.get('/api/v1/log/proof', async (c) => {
    const q = parseQuery(c.req.url, LogProofQuery);
    const s = await v1Log();
    const first = q.firstSize ?? '1';
    const last = q.lastSize;
    if (!last || !/^\d{1,15}$/.test(last) || !/^\d{1,15}$/.test(first)) throw apiError('API_BAD_REQUEST', 'lastSize (and firstSize) must be integers');
    // Rekor proves in any of its trees, the active one by default (tlog.go GetLogProofHandler): a retired
    // shard's proofs come from its stored hashes, up to its final verified tree head. A tree ID that is not
    // one of the log's trees is refused with 400, as Rekor refuses one outside its shards.
    const treeID = q.treeID;
    let tree: Awaited<ReturnType<typeof retiredTree>>;
    if (treeID !== undefined && treeID !== s.shard?.treeID) {
      tree = /^\d{1,20}$/.test(treeID) ? await retiredTree(store, s, treeID) : undefined;
      if (!tree) throw apiError('API_BAD_REQUEST', `tree ${treeID} is not a tree of this log that the mirror holds`);
    }
    return c.json(await consistencyProofView(store, s, BigInt(first), BigInt(last), tree).then((p) => ({ hashes: p.hashes.map(toHex), rootHash: p.rootHash })));
  });
  app.get('/api/v1/log/entries', async (c) => {
    const raw = parseQuery(c.req.url, LogEntriesQuery).logIndex;
    const e = await logEntry(Number(raw));
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
    const id = c.req.param('uuid');
    if (!Uuid.safeParse(id).success) throw apiError('API_BAD_REQUEST', 'entry UUID must be 64 hex digits, or an 80-hex entry ID');
    parseQuery(c.req.url, NoQuery);
    const e = await byUuid(id);
    if (!e) throw apiError('API_NOT_FOUND', 'entry not found');
    return c.json(e);
  });
  app.post('/api/v1/log/entries/retrieve', async (c) => {
    parseQuery(c.req.url, NoQuery);
    const raw = await readJson(c.req.raw);
    const count = ['entryUUIDs', 'logIndexes', 'entries'].reduce((n, k) => n + (Array.isArray((raw as Record<string, unknown>)?.[k]) ? ((raw as Record<string, unknown[]>)[k]!.length ?? 0) : 0), 0);
    if (count > 10) return c.json({ code: 422, message: 'more than max allowed 10 entries in request' }, 422);
    // Rekor's openapi gives each list `minItems: 1`, and go-swagger refuses an empty one with this 422.
    for (const k of ['entryUUIDs', 'logIndexes', 'entries']) {
      const v = (raw as Record<string, unknown> | null)?.[k];
      if (Array.isArray(v) && v.length === 0) return c.json({ code: 422, message: `${k} in body should have at least 1 items` }, 422);
    }
    const r = RetrieveBody.safeParse(raw);
    if (!r.success) throw apiError('API_BAD_REQUEST', r.error.issues[0]?.message ?? 'invalid body');
    // Rekor's order (SearchLogQueryHandler): entry IDs (80 hex) first, each in its own tree; then leaf
    // hashes, the UUIDs (64 hex) and the proposed entries' (canonical body, proposed-entry.ts), each
    // found in every tree that holds it; then indexes.
    const proposed = (r.data.entries ?? []).map((p, i) => {
      try {
        return toHex(leafHash(canonicalProposedEntry(p)));
      } catch (e) {
        throw apiError('API_BAD_REQUEST', `entries[${i}]: ${e instanceof TlogwatchError ? e.message : describeError(e)}`);
      }
    });
    const ids = r.data.entryUUIDs ?? [];
    const out = [];
    for (const u of ids.filter((x) => x.length === 80)) {
      const e = await byUuid(u);
      if (e) out.push(e);
    }
    for (const h of [...ids.filter((x) => x.length === 64), ...proposed]) out.push(...(await inEveryTree(h)));
    for (const i of r.data.logIndexes ?? []) {
      const e = await logEntry(i);
      if (e) out.push(e);
    }
    return c.json(out);
  });
  app.post('/api/v1/index/retrieve', async (c) => {
    parseQuery(c.req.url, NoQuery);
    const r = IndexRetrieveBody.safeParse(await readJson(c.req.raw));
    if (!r.success) throw apiError('API_BAD_REQUEST', r.error.issues[0]?.message ?? 'invalid body');
    const s = await v1Log();
    const q = r.data;
    const lookups: IndexLookup[] = [];
    if (q.hash) lookups.push({ what: 'hash', field: 'DIGEST', values: [digestToBytes(rekorHash(q.hash))] });
    // Case-insensitive as Rekor's (rekor-case.ts), over the case-preserving SAN index /v1/search uses.
    if (q.email) lookups.push(await identityLookup(store, 'email', q.email));
    if (q.subject) lookups.push(await identityLookup(store, 'subject', q.subject));
    if (q.publicKey) lookups.push(publicKeyLookup(q.publicKey.format, q.publicKey.content));
    if (lookups.length === 0) throw apiError('API_BAD_REQUEST', 'give hash, email, subject or publicKey');
    // The records come from the one read that decided each candidate (index-retrieve.ts).
    const found = await retrieveEntries(store, s.name, lookups, q.operator ?? 'or');
    return c.json(found.flatMap(({ record }) => (record.v1 ? [`${treeIdHex(record.v1.treeID)}${record.entry.uuid}`] : [])));
  });
}
