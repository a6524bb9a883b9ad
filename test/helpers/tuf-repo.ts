/**
 * A real TUF repository on 127.0.0.1 (https://theupdateframework.github.io/specification/latest/), the way
 * Sigstore's root-signing repository is laid out: consistent snapshots, so the client reads `N.root.json`,
 * `timestamp.json`, `N.snapshot.json`, `N.targets.json` and `targets/<sha256>.<name>`. Metadata is built and
 * signed with @tufjs/models (the models tuf-js itself verifies with), one Ed25519 key for every role.
 * `publish` replaces the targets with a new version, as a repository update would.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { Key, Metadata, MetaFile, Root, Signature, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';

const SPEC = '1.0.31';
const expires = () => new Date(Date.now() + 7 * 86400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface TufRepo {
  /** The repository's base URL (metadata at the root, targets under /targets). */
  url: string;
  /** Writes the first root.json (the one a client starts its chain of trust from) to `path`. */
  writeRoot(path: string): void;
  /**
   * A new version of the targets (name → contents), with snapshot and timestamp; `rogue` signs them with a
   * key the root does not name, as an attacker who controls the mirror but not the keys would.
   */
  publish(targets: Record<string, string | Uint8Array>, o?: { rogue?: boolean }): void;
  /** Requests served, by path (what the client fetched). */
  requests: string[];
  close(): Promise<void>;
}

export async function startTufRepo(): Promise<TufRepo> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const rogueKey = generateKeyPairSync('ed25519').privateKey;
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const keyID = sha256(Buffer.from(raw, 'hex'));
  const key = new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: raw } });
  const signer = (k: KeyObject) => (data: Buffer) => new Signature({ keyID, sig: sign(null, data, k).toString('hex') });
  const files = new Map<string, Uint8Array>();
  const put = (path: string, md: Metadata<Root | Targets | Snapshot | Timestamp>, k = privateKey) => {
    md.sign(signer(k));
    const bytes = Buffer.from(JSON.stringify(md.toJSON()));
    files.set(path, bytes);
    return bytes;
  };

  // Without roles given, Root has the four top-level roles with no keys and threshold 1.
  const root = new Root({ version: 1, specVersion: SPEC, expires: expires(), consistentSnapshot: true });
  for (const r of ['root', 'targets', 'snapshot', 'timestamp']) root.addKey(key, r);
  const rootBytes = put('/1.root.json', new Metadata(root));

  let version = 0;
  const publish = (targets: Record<string, string | Uint8Array>, o: { rogue?: boolean } = {}) => {
    const k = o.rogue ? rogueKey : privateKey;
    version++;
    const t = new Targets({ version, specVersion: SPEC, expires: expires() });
    for (const [name, content] of Object.entries(targets)) {
      const bytes = typeof content === 'string' ? Buffer.from(content) : content;
      const hash = sha256(bytes);
      files.set(`/targets/${hash}.${name}`, bytes);
      t.addTarget(new TargetFile({ path: name, length: bytes.length, hashes: { sha256: hash } }));
    }
    put(`/${version}.targets.json`, new Metadata(t), k);
    put(`/${version}.snapshot.json`, new Metadata(new Snapshot({ version, specVersion: SPEC, expires: expires(), meta: { 'targets.json': new MetaFile({ version }) } })), k);
    put('/timestamp.json', new Metadata(new Timestamp({ version, specVersion: SPEC, expires: expires(), snapshotMeta: new MetaFile({ version }) })), k);
  };

  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://tuf').pathname;
    requests.push(path);
    const body = files.get(path);
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    writeRoot: (path) => writeFileSync(path, rootBytes),
    publish,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
