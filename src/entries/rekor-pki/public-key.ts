/**
 * Rekor's search by public key (sigstore/rekor pkg/api/index.go SearchIndexHandler): the key is read in the
 * format the query names (pkg/pki/factory.go), and entries are looked up under the SHA-256 of its canonical
 * form, bare hex. Entries file that hash where their IndexKeys() write it bare: hashedrekord, rekord,
 * alpine, cose, helm and rpm, whose bodies carry the key in its canonical form (each kind's Canonicalize).
 * dsse and intoto entries file their key hash as `sha256:<hex>` (pkg/types/dsse/v0.0.1, intoto/v0.0.{1,2}
 * IndexKeys), which a `publicKey` search never names, and jar's is of its PKCS #7 form: neither is found.
 */
import { isRecord } from '../../util/json.ts';
import { canonicalKeyPem, goBase64 } from '../proposed-entry.ts';
import { canonicalMinisignKey } from './minisign.ts';
import { canonicalPgpKeys } from './pgp.ts';
import { canonicalSshKey } from './ssh.ts';

/** openapi.yaml SearchIndex.publicKey.format. */
export const REKOR_KEY_FORMATS = ['pgp', 'x509', 'minisign', 'ssh', 'tuf'] as const;
export type RekorKeyFormat = (typeof REKOR_KEY_FORMATS)[number];

/**
 * Every canonical form Rekor may file this key under (one, or one per order of a PGP key's user IDs), as
 * bytes. Throws when Rekor would refuse the key (its format's error), or for `tuf`, which this mirror does
 * not index (entries/kinds/other.ts tufV001).
 */
export function canonicalPublicKeys(format: Exclude<RekorKeyFormat, 'tuf'>, material: Uint8Array): Uint8Array[] {
  switch (format) {
    case 'x509':
      return [Buffer.from(canonicalKeyPem(material, 'publicKey.content', 'publicKey'))];
    case 'pgp':
      return canonicalPgpKeys(material).map((k) => Buffer.from(k, 'latin1'));
    case 'ssh':
      return [Buffer.from(canonicalSshKey(material), 'latin1')];
    case 'minisign':
      return [Buffer.from(canonicalMinisignKey(material), 'latin1')];
  }
}

const at = (o: unknown, ...path: string[]): unknown => path.reduce((v, k) => (isRecord(v) ? v[k] : undefined), o);

/** Where each kind whose IndexKeys() hash the key bare keeps the key (its v0.0.1 schema). */
const KEY_FIELD: Readonly<Record<string, readonly string[]>> = {
  hashedrekord: ['signature', 'publicKey', 'content'],
  rekord: ['signature', 'publicKey', 'content'],
  alpine: ['publicKey', 'content'],
  helm: ['publicKey', 'content'],
  rpm: ['publicKey', 'content'],
  cose: ['publicKey'],
};

/**
 * The key bytes a Rekor v1 body carries where Rekor's search index hashes them for `publicKey` searches;
 * undefined for kinds that file no such key (dsse, intoto, jar, tuf, rfc3161) or a body without one.
 */
export function indexedKeyContent(body: Uint8Array): Uint8Array | undefined {
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  const kind = at(o, 'kind');
  const field = typeof kind === 'string' && Object.hasOwn(KEY_FIELD, kind) ? KEY_FIELD[kind] : undefined;
  const content = field && at(o, 'spec', ...field);
  return typeof content === 'string' ? goBase64(content) : undefined;
}
