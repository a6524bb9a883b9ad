/**
 * The canonical form Rekor gives an SSH public key (sigstore/rekor pkg/pki/ssh/ssh.go CanonicalValue:
 * golang.org/x/crypto/ssh MarshalAuthorizedKey of the key ParseAuthorizedKey reads): `<type> <base64 of the
 * key blob>` and a newline, without options or comment. ParseAuthorizedKey takes the first line that holds a
 * key (blank and `#` lines skipped, an options field allowed before it; the type field written there is not
 * read, the blob names its own type); the blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4, OpenSSH
 * PROTOCOL.u2f) is written back field by field, integers as canonical mpints (RFC 4251 §5).
 * Certificates (`*-cert-v01@openssh.com`) are taken as written.
 */
import { goBase64 } from '../proposed-entry.ts';

export class SshKeyError extends Error {}

/** Most bytes Rekor reads of an SSH key (ssh.go NewPublicKey: 64 KiB). */
const MAX_BYTES = 65536;

class Reader {
  at = 0;
  readonly b: Buffer;
  constructor(b: Buffer) {
    this.b = b;
  }
  string(): Buffer {
    if (this.at + 4 > this.b.length) throw new SshKeyError('the key blob is truncated');
    const n = this.b.readUInt32BE(this.at);
    if (this.at + 4 + n > this.b.length) throw new SshKeyError('the key blob is truncated');
    const s = this.b.subarray(this.at + 4, this.at + 4 + n);
    this.at += 4 + n;
    return s;
  }
  /** An mpint, as the unsigned magnitude Go's big.Int keeps (a negative one is refused). */
  mpint(): Buffer {
    const v = this.string();
    if (v.length > 0 && v[0]! & 0x80) throw new SshKeyError('a key integer is negative');
    let i = 0;
    while (i < v.length && v[i] === 0) i++;
    return v.subarray(i);
  }
  end(): void {
    if (this.at !== this.b.length) throw new SshKeyError('ssh: trailing junk in public key');
  }
}

const str = (b: Buffer | string) => {
  const v = Buffer.from(b);
  const n = Buffer.alloc(4);
  n.writeUInt32BE(v.length);
  return Buffer.concat([n, v]);
};
const mpint = (mag: Buffer) => str(mag.length > 0 && mag[0]! & 0x80 ? Buffer.concat([Buffer.of(0), mag]) : mag);

const CURVES: Record<string, string> = { 'ecdsa-sha2-nistp256': 'nistp256', 'ecdsa-sha2-nistp384': 'nistp384', 'ecdsa-sha2-nistp521': 'nistp521', 'sk-ecdsa-sha2-nistp256@openssh.com': 'nistp256' };
const POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** The blob as x/crypto/ssh's Marshal writes the key ParsePublicKey reads from it. */
function canonicalBlob(blob: Buffer): Buffer {
  const r = new Reader(blob);
  const type = r.string().toString('latin1');
  const out = [str(type)];
  if (type === 'ssh-ed25519' || type === 'sk-ssh-ed25519@openssh.com') {
    const key = r.string();
    if (key.length !== 32) throw new SshKeyError(`invalid size ${key.length} for Ed25519 public key`);
    out.push(str(key));
    if (type.startsWith('sk-')) out.push(str(r.string()));
  } else if (type === 'ssh-rsa') {
    out.push(mpint(r.mpint()), mpint(r.mpint()));
  } else if (type === 'ssh-dss') {
    for (let k = 0; k < 4; k++) out.push(mpint(r.mpint()));
  } else if (CURVES[type]) {
    const curve = r.string().toString('latin1');
    if (curve !== CURVES[type]) throw new SshKeyError(`curve ${curve} does not match key type ${type}`);
    const point = r.string();
    if (point.length !== POINT_BYTES[curve] || point[0] !== 4) throw new SshKeyError('ssh: invalid curve point');
    out.push(str(curve), str(point));
    if (type.startsWith('sk-')) out.push(str(r.string()));
  } else if (type.endsWith('-cert-v01@openssh.com')) {
    return blob;
  } else {
    throw new SshKeyError(`ssh: unknown key algorithm ${type.slice(0, 64)}`);
  }
  r.end();
  return Buffer.concat(out);
}

/** The blob of an authorized_keys line after its options, or undefined when it holds none (ssh keys.go parseAuthorizedKey). */
function blobAfterType(rest: string): Buffer | undefined {
  const fields = rest.trim().split(/[ \t]/);
  const b = goBase64Strict(fields[0] ?? '');
  return b && b.length > 0 ? b : undefined;
}

/** base64.StdEncoding.Decode of one field: no line breaks inside a field, padding required. */
const goBase64Strict = (s: string) => (/[\r\n]/.test(s) ? undefined : goBase64(s));

/** Rekor's canonical form of an SSH public key (authorized_keys text); SshKeyError when Rekor would refuse it. */
export function canonicalSshKey(material: Uint8Array): string {
  if (material.length > MAX_BYTES) throw new SshKeyError(`an SSH key is at most ${MAX_BYTES} bytes`);
  let lastError: unknown;
  for (const raw of Buffer.from(material).toString('latin1').split('\n')) {
    const line = raw.split('\r')[0]!.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    // The key type field, then the blob; failing that, an options field first (quoted commas and spaces kept).
    const candidates = [line.slice(line.search(/[ \t]/))];
    const opts = /^(?:[^ \t"]|"(?:[^"\\]|\\.)*")+[ \t]+/.exec(line);
    if (opts) {
      const after = line.slice(opts[0].length);
      const i = after.search(/[ \t]/);
      if (i >= 0) candidates.push(after.slice(i));
    }
    if (line.search(/[ \t]/) < 0) continue;
    for (const c of candidates) {
      const blob = blobAfterType(c);
      if (!blob) continue;
      try {
        const canonical = canonicalBlob(blob);
        return `${new Reader(canonical).string().toString('latin1')} ${canonical.toString('base64')}\n`;
      } catch (e) {
        lastError = e;
      }
    }
  }
  throw lastError instanceof SshKeyError ? lastError : new SshKeyError('ssh: no key found');
}
