/**
 * `--inject FILE.jsonl`: entries placed at chosen indexes, one JSON object a line:
 *
 *   {"at": INDEX|"next", "integratedTime": ISO-8601, "kind": "hashedrekord"|"dsse"|"intoto",
 *    "digest": "sha256:<64 hex>", "cert": {"san", "sans": [further SANs], "issuer", "extensions": {"<OID or Fulcio name>": "value"}, "wrapsKey": true}
 *    | "key": "ecdsa"|"ed25519"}
 *
 * Only `at` and one of `cert`/`key` are required. Fulcio extension names are FULCIO_OIDS' camelCase names;
 * a dotted Fulcio OID is accepted and normalised to its name, any other dotted OID is written as a UTF8String.
 * Lines are checked strictly: an unknown key or a malformed value is an error naming the line.
 */
import { FULCIO_OIDS } from '../../src/entries/types.ts';

export interface InjectSpec {
  at: number | 'next';
  integratedTime?: string;
  kind?: 'hashedrekord' | 'dsse' | 'intoto';
  digest?: string;
  /** `untrustedCA`: issued by a CA the trusted root does not list (as anyone can make one and Rekor v1 takes it). */
  /** `rawExtensions`: claim name or dotted OID → the value's bytes as lower-case hex, written as they are (certs.ts LeafClaims). */
  /** `sans`: further SANs after `san` (certs.ts LeafClaims.sans). */
  /**
   * `wrapsKey`: the certificate is made around the key that `"key": "ecdsa"` entries are signed with, as
   * whoever holds a long-lived key can log its signatures under a certificate of their own.
   */
  cert?: { san: string; sans?: string[]; issuer?: string; extensions?: Record<string, string>; rawExtensions?: Record<string, string>; untrustedCA?: boolean; wrapsKey?: boolean };
  key?: 'ecdsa' | 'ed25519';
  /**
   * A rekord 0.0.1 entry signed with this key (base64 `content` in Rekor's canonical form for `format`, as
   * Rekor stores it); its signature is not one (the mirror does not check rekord signatures). Files the
   * entry under the SHA-256 of the content, as Rekor's IndexKeys do.
   */
  rekord?: { format: 'pgp' | 'ssh' | 'minisign' | 'x509'; content: string };
}

const NAME_OF_OID = new Map(Object.entries(FULCIO_OIDS).map(([name, oid]) => [oid as string, name]));
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(o: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new Error(`${where}: unknown key ${JSON.stringify(k)} (expected ${keys.join(', ')})`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new Error(`${where} must be a non-empty string`);
  return v;
}

function parseCert(v: unknown, where: string): NonNullable<InjectSpec['cert']> {
  if (!isRecord(v)) throw new Error(`${where}.cert must be an object`);
  only(v, ['san', 'sans', 'issuer', 'extensions', 'rawExtensions', 'untrustedCA', 'wrapsKey'], `${where}.cert`);
  const cert: NonNullable<InjectSpec['cert']> = { san: str(v['san'], `${where}.cert.san`) };
  if (v['sans'] !== undefined) {
    const sans = v['sans'];
    if (!Array.isArray(sans) || sans.length === 0) throw new Error(`${where}.cert.sans must be a non-empty array of strings`);
    cert.sans = sans.map((x, i) => str(x, `${where}.cert.sans[${i}]`));
  }
  if (v['issuer'] !== undefined) cert.issuer = str(v['issuer'], `${where}.cert.issuer`);
  if (v['untrustedCA'] !== undefined) {
    if (typeof v['untrustedCA'] !== 'boolean') throw new Error(`${where}.cert.untrustedCA must be true or false`);
    cert.untrustedCA = v['untrustedCA'];
  }
  if (v['wrapsKey'] !== undefined) {
    if (typeof v['wrapsKey'] !== 'boolean') throw new Error(`${where}.cert.wrapsKey must be true or false`);
    cert.wrapsKey = v['wrapsKey'];
  }
  if (v['extensions'] !== undefined) {
    const ext = v['extensions'];
    if (!isRecord(ext)) throw new Error(`${where}.cert.extensions must be an object`);
    cert.extensions = {};
    for (const [k, value] of Object.entries(ext)) {
      const name = NAME_OF_OID.get(k) ?? k;
      if (!(name in FULCIO_OIDS) && !/^\d+(\.\d+)+$/.test(name)) throw new Error(`${where}.cert.extensions: ${JSON.stringify(k)} is neither a Fulcio extension name (${Object.keys(FULCIO_OIDS).join(', ')}) nor a dotted OID`);
      if (name === 'otherNameSan') throw new Error(`${where}.cert.extensions: .7 lives in the SAN; use "san"`);
      cert.extensions[name] = str(value, `${where}.cert.extensions.${k}`);
    }
  }
  if (v['rawExtensions'] !== undefined) {
    const raw = v['rawExtensions'];
    if (!isRecord(raw)) throw new Error(`${where}.cert.rawExtensions must be an object`);
    cert.rawExtensions = {};
    for (const [k, value] of Object.entries(raw)) {
      const name = NAME_OF_OID.get(k) ?? k;
      if (!(name in FULCIO_OIDS) && !/^\d+(\.\d+)+$/.test(name)) throw new Error(`${where}.cert.rawExtensions: ${JSON.stringify(k)} is neither a Fulcio extension name nor a dotted OID`);
      if (typeof value !== 'string' || !/^([0-9a-f]{2})+$/.test(value)) throw new Error(`${where}.cert.rawExtensions.${k} must be lower-case hex bytes`);
      cert.rawExtensions[name] = value;
    }
  }
  return cert;
}

/** One inject line (already JSON-parsed) → a checked spec. */
export function parseInjectSpec(v: unknown, where = 'inject'): InjectSpec {
  if (!isRecord(v)) throw new Error(`${where}: not a JSON object`);
  only(v, ['at', 'integratedTime', 'kind', 'digest', 'cert', 'key', 'rekord'], where);
  const at = v['at'];
  if (at !== 'next' && !(typeof at === 'number' && Number.isSafeInteger(at) && at >= 0)) throw new Error(`${where}: "at" must be a non-negative integer index or "next"`);
  const spec: InjectSpec = { at };
  if (v['integratedTime'] !== undefined) {
    const t = v['integratedTime'];
    if (typeof t !== 'string' || !ISO_8601.test(t) || Number.isNaN(Date.parse(t))) throw new Error(`${where}: "integratedTime" must be an ISO-8601 date-time with a zone, e.g. 2026-11-15T02:00:00Z`);
    spec.integratedTime = t;
  }
  if (v['kind'] !== undefined) {
    if (v['kind'] !== 'hashedrekord' && v['kind'] !== 'dsse' && v['kind'] !== 'intoto') throw new Error(`${where}: "kind" must be hashedrekord, dsse or intoto`);
    spec.kind = v['kind'];
  }
  if (v['digest'] !== undefined) {
    if (typeof v['digest'] !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(v['digest'])) throw new Error(`${where}: "digest" must be sha256:<64 lower-case hex>`);
    spec.digest = v['digest'];
  }
  if ([v['cert'], v['key'], v['rekord']].filter((x) => x !== undefined).length !== 1) throw new Error(`${where}: give exactly one of "cert", "key" and "rekord"`);
  if (v['rekord'] !== undefined) {
    const r = v['rekord'];
    if (!isRecord(r) || !['pgp', 'ssh', 'minisign', 'x509'].includes(r['format'] as string) || typeof r['content'] !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(r['content'])) {
      throw new Error(`${where}: "rekord" must be {"format": "pgp"|"ssh"|"minisign"|"x509", "content": "<base64>"}`);
    }
    if (v['kind'] !== undefined) throw new Error(`${where}: "rekord" entries have no "kind"`);
    spec.rekord = { format: r['format'] as NonNullable<InjectSpec['rekord']>['format'], content: r['content'] };
  }
  if (v['cert'] !== undefined) spec.cert = parseCert(v['cert'], where);
  if (v['key'] !== undefined) {
    if (v['key'] !== 'ecdsa' && v['key'] !== 'ed25519') throw new Error(`${where}: "key" must be "ecdsa" or "ed25519"`);
    spec.key = v['key'];
  }
  return spec;
}

/** The text of an inject file → specs; blank lines are skipped, fixed indexes must be distinct. */
export function parseInjectFile(text: string, path = 'inject'): InjectSpec[] {
  const specs: InjectSpec[] = [];
  const seen = new Set<number>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${path}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not JSON (${(e as Error).message})`, { cause: e });
    }
    const spec = parseInjectSpec(v, where);
    if (typeof spec.at === 'number') {
      if (seen.has(spec.at)) throw new Error(`${where}: index ${spec.at} is already injected by an earlier line`);
      seen.add(spec.at);
    }
    specs.push(spec);
  });
  return specs;
}

/** Unix seconds of a spec's integratedTime, or `fallback`. */
export function injectTime(spec: InjectSpec, fallback: number): number {
  return spec.integratedTime ? Math.floor(Date.parse(spec.integratedTime) / 1000) : fallback;
}
