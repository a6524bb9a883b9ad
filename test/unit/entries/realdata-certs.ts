/**
 * Every X.509 certificate in test/fixtures/realdata: PEM files, base64 DER in JSON (bundles, trusted
 * roots), and certificates inside entry bodies (base64 JSON bodies holding base64 PEM), found by walking
 * every JSON string. A candidate counts as a certificate when OpenSSL (node:crypto) parses it:
 * @sigstore/core parses lazily and accepts other DER (CMS timestamps, PKCS #1 keys) as well.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { filesUnder, REALDATA } from '../../helpers/realdata.ts';

export interface RealCert {
  der: Uint8Array;
  /** The first file it was found in. */
  file: string;
}

const PEM_RE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

function fromText(text: string, add: (der: Uint8Array) => void, depth: number): void {
  for (const m of text.matchAll(PEM_RE)) add(new Uint8Array(Buffer.from(m[1]!.replace(/\s/g, ''), 'base64')));
  const t = text.trimStart();
  if (depth < 4 && (t.startsWith('{') || t.startsWith('['))) {
    try {
      walk(JSON.parse(t), add, depth + 1);
    } catch {
      // not JSON after all
    }
  }
}

function walk(v: unknown, add: (der: Uint8Array) => void, depth: number): void {
  if (typeof v === 'string') {
    if (v.length >= 64 && /^[A-Za-z0-9+/]+=*$/.test(v)) {
      const bytes = Buffer.from(v, 'base64');
      if (bytes[0] === 0x30 && bytes[1] === 0x82) add(new Uint8Array(bytes));
      else fromText(bytes.toString('latin1'), add, depth);
    } else fromText(v, add, depth);
  } else if (Array.isArray(v)) v.forEach((x) => walk(x, add, depth));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => walk(x, add, depth));
}

let cached: RealCert[] | undefined;

export function realCertificates(): RealCert[] {
  if (cached) return cached;
  const seen = new Map<string, RealCert>();
  for (const file of filesUnder(REALDATA, (p) => !p.endsWith('.md') && !p.endsWith('.tsr'))) {
    const add = (der: Uint8Array): void => {
      const key = createHash('sha256').update(der).digest('hex');
      if (seen.has(key)) return;
      try {
        new X509Certificate(der);
      } catch {
        return;
      }
      seen.set(key, { der, file: file.slice(REALDATA.length + 1) });
    };
    fromText(readFileSync(file, 'latin1'), add, 0);
    if (file.endsWith('.base64')) fromText(Buffer.from(readFileSync(file, 'latin1').trim(), 'base64').toString('latin1'), add, 0);
  }
  cached = [...seen.values()];
  return cached;
}
