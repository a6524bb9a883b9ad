/**
 * ECDSA P-256 signing over a SHA-256 digest (FIPS 186-5 §6.4.1) with nonces made in batches.
 *
 * Why: node:crypto.sign costs ~60 µs a call here, most of it per-call overhead, and the build signs once
 * per entry: a million entries would take a minute of signing alone. The expensive part of ECDSA, R = k·G,
 * does not depend on the key or the message, so nonces are drawn as k0, k0+1, k0+2, … from a random k0:
 * R advances by one point addition, and the affine conversions and k⁻¹ are batch-inverted (Montgomery's
 * trick). A signature is then s = k⁻¹(z + r·d) mod n: two multiplications. The signatures are ordinary
 * ECDSA signatures (node:crypto and every verifier accept them; tests check); related nonces would leak
 * the key to anyone holding two signatures, which is irrelevant for keys derived from a public seed.
 *
 * It also signs a digest given directly: an injected entry names only its artifact's digest, and a
 * hashedrekord signature must verify against that digest (Rekor checks it with options.WithDigest).
 */
import { randomBytes, type KeyObject } from 'node:crypto';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;
const BATCH = 1024;

const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);
const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function powMod(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  for (b = mod(b, m); e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

type Jacobian = [bigint, bigint, bigint];

/** Doubling, a = -3 (EFD dbl-2001-b shape). */
function double([x, y, z]: Jacobian): Jacobian {
  const yy = (y * y) % P;
  const s = (4n * x * yy) % P;
  const zz = (z * z) % P;
  const m = mod(3n * (x - zz) * (x + zz), P);
  const x3 = mod(m * m - 2n * s, P);
  return [x3, mod(m * (s - x3) - 8n * yy * yy, P), (2n * y * z) % P];
}

/** Adds the affine point (x2, y2) to a Jacobian point that is neither it nor its negation (EFD madd-2007-bl). */
function addAffine([x1, y1, z1]: Jacobian, x2: bigint, y2: bigint): Jacobian {
  const z1z1 = (z1 * z1) % P;
  const h = mod(x2 * z1z1 - x1, P);
  const hh = (h * h) % P;
  const i = (4n * hh) % P;
  const j = (h * i) % P;
  const r = mod(2n * ((y2 * z1 * z1z1) % P - y1), P);
  const v = (x1 * i) % P;
  const x3 = mod(r * r - j - 2n * v, P);
  return [x3, mod(r * (v - x3) - 2n * y1 * j, P), mod((z1 + h) * (z1 + h) - z1z1 - hh, P)];
}

/** k·G for 2 ≤ k < n, left to right (additions of G never meet ±G for such k). */
function multiplyG(k: bigint): Jacobian {
  let acc: Jacobian = [GX, GY, 1n];
  for (let bit = BigInt(k.toString(2).length - 2); bit >= 0n; bit--) {
    acc = double(acc);
    if ((k >> bit) & 1n) acc = addAffine(acc, GX, GY);
  }
  return acc;
}

function batchInvert(xs: readonly bigint[], m: bigint): bigint[] {
  const prefix: bigint[] = [];
  let acc = 1n;
  for (const x of xs) {
    prefix.push(acc);
    acc = (acc * x) % m;
  }
  let inv = powMod(acc, m - 2n, m);
  const out = new Array<bigint>(xs.length);
  for (let i = xs.length - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]!) % m;
    inv = (inv * xs[i]!) % m;
  }
  return out;
}

function derInteger(x: bigint): Buffer {
  let h = x.toString(16);
  if (h.length % 2) h = `0${h}`;
  const b = Buffer.from(h, 'hex');
  return Buffer.concat([Buffer.from([0x02, b.length + (b[0]! >= 0x80 ? 1 : 0)]), b[0]! >= 0x80 ? Buffer.from([0]) : Buffer.alloc(0), b]);
}

const scalars = new WeakMap<KeyObject, bigint>();
function scalarOf(key: KeyObject): bigint {
  let d = scalars.get(key);
  if (d === undefined) {
    const jwk = key.export({ format: 'jwk' });
    if (jwk.crv !== 'P-256' || jwk.d === undefined) throw new TypeError('not a P-256 private key');
    d = big(Buffer.from(jwk.d, 'base64url'));
    scalars.set(key, d);
  }
  return d;
}

/** A stream of (r, k⁻¹) pairs, k = k0, k0+1, … from a random k0, refilled a batch at a time. */
export class P256Signer {
  private k = 0n;
  private point: Jacobian = [0n, 1n, 0n];
  private rs: bigint[] = [];
  private kinvs: bigint[] = [];
  private used = 0;

  private refill(): void {
    if (this.point[2] === 0n || this.k + BigInt(BATCH) >= N - 1n) {
      this.k = (big(randomBytes(32)) % (N - BigInt(4 * BATCH))) + 2n;
      this.point = multiplyG(this.k);
    }
    const xs: bigint[] = [];
    const zs: bigint[] = [];
    const ks: bigint[] = [];
    for (let i = 0; i < BATCH; i++) {
      this.point = addAffine(this.point, GX, GY);
      this.k += 1n;
      xs.push(this.point[0]);
      zs.push(this.point[2]);
      ks.push(this.k);
    }
    const zinv = batchInvert(zs, P);
    this.rs = xs.map((x, i) => (((x * zinv[i]! * zinv[i]!) % P) % N));
    this.kinvs = batchInvert(ks, N);
    this.used = 0;
  }

  /** ASN.1 DER ECDSA signature with a P-256 private key over a 32-byte SHA-256 digest. */
  sign(privateKey: KeyObject, sha256Digest: Uint8Array): Buffer {
    if (sha256Digest.length !== 32) throw new RangeError('a SHA-256 digest is 32 bytes');
    const d = scalarOf(privateKey);
    const z = big(sha256Digest);
    for (;;) {
      if (this.used === this.rs.length) this.refill();
      const r = this.rs[this.used]!;
      const s = (this.kinvs[this.used++]! * ((z + r * d) % N)) % N;
      if (r === 0n || s === 0n) continue;
      const body = Buffer.concat([derInteger(r), derInteger(s)]);
      return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    }
  }
}

/** One signer per thread is enough: nonces never repeat within it. */
export const p256 = new P256Signer();
