/**
 * ECDSA P-256 signing over a SHA-256 digest (FIPS 186-5 §6.4.1) with nonces made in batches.
 *
 * Why: node:crypto.sign costs ~60 µs a call here, most of it per-call overhead, and the build signs once
 * per entry: a million entries would take a minute of signing alone. The expensive part of ECDSA, R = k·G,
 * does not depend on the key or the message, so a batch of nonces is drawn as k0+1, …, k0+B from a base
 * point P0 = k0·G and a table of 1·G … B·G made once per thread: each R = P0 + i·G is one affine addition
 * whose only division is batch-inverted with the others (Montgomery's trick), and only its x is computed
 * (r is all a signature needs), except for the last, which is the next batch's base. The k⁻¹ are batch-
 * inverted too. A signature is then s = k⁻¹(z + r·d) mod n: two multiplications. The signatures are
 * ordinary ECDSA signatures (node:crypto and every verifier accept them; tests check); related nonces
 * would leak the key to anyone holding two signatures, which is irrelevant for keys derived from a public
 * seed.
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
function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}
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

/** An ASN.1 DER INTEGER of 0 < x < 2^256 as hex: minimal, with a 0x00 byte when the top bit is set. */
function derIntegerHex(x: bigint): string {
  let h = x.toString(16);
  if (h.length % 2) h = `0${h}`;
  if (h.charCodeAt(0) >= 0x38) h = `00${h}`; // first digit 8-f: the top bit is set
  return `02${(h.length / 2).toString(16).padStart(2, '0')}${h}`;
}

/** A P-256 private key: a KeyObject, or its scalar (keys.ts ecdsaScalarKey). */
export type P256PrivateKey = KeyObject | bigint;

const scalars = new WeakMap<KeyObject, bigint>();
function scalarOf(key: P256PrivateKey): bigint {
  if (typeof key === 'bigint') {
    if (key <= 0n || key >= N) throw new RangeError('a P-256 scalar is in [1, n-1]');
    return key;
  }
  let d = scalars.get(key);
  if (d === undefined) {
    const jwk = key.export({ format: 'jwk' });
    if (jwk.crv !== 'P-256' || jwk.d === undefined) throw new TypeError('not a P-256 private key');
    d = big(Buffer.from(jwk.d, 'base64url'));
    scalars.set(key, d);
  }
  return d;
}

function toAffine(p: Jacobian): [bigint, bigint] {
  const zinv = powMod(p[2], P - 2n, P);
  const zz = (zinv * zinv) % P;
  return [(p[0] * zz) % P, (((p[1] * zz) % P) * zinv) % P];
}

/** i·G for i = 1 … BATCH, affine: the table every batch adds to its base point. */
let multiples: { xs: bigint[]; ys: bigint[] } | undefined;
function multiplesOfG(): { xs: bigint[]; ys: bigint[] } {
  if (multiples) return multiples;
  const points: Jacobian[] = [[GX, GY, 1n], double([GX, GY, 1n])];
  while (points.length < BATCH) points.push(addAffine(points[points.length - 1]!, GX, GY)); // i·G + G, i ≥ 2: never ±G
  const zinv = batchInvert(points.map((p) => p[2]), P);
  const xs = points.map((p, i) => (p[0] * ((zinv[i]! * zinv[i]!) % P)) % P);
  const ys = points.map((p, i) => (((p[1] * ((zinv[i]! * zinv[i]!) % P)) % P) * zinv[i]!) % P);
  return (multiples = { xs, ys });
}

/** A stream of (r, k⁻¹) pairs, k = k0+1, k0+2, … from a random k0, refilled a batch at a time. */
export class P256Signer {
  /** The base of the next batch: k0 and P0 = k0·G (affine); k0 = 0 before the first batch. */
  private k = 0n;
  private x = 0n;
  private y = 0n;
  private rs: bigint[] = [];
  private kinvs: bigint[] = [];
  private used = 0;

  private refill(): void {
    const { xs: tx, ys: ty } = multiplesOfG();
    // k0 is drawn in [B+2, n-4B] and again before k0 + 2B reaches n: no k0 + i is 0 mod n and P0 is never
    // ±i·G, so no addition below divides by zero.
    if (this.k === 0n || this.k + BigInt(2 * BATCH) >= N) {
      this.k = (big(randomBytes(32)) % (N - BigInt(5 * BATCH))) + BigInt(BATCH + 2);
      [this.x, this.y] = toAffine(multiplyG(this.k));
    }
    const { x: x0, y: y0 } = this;
    const dxs = tx.map((x) => mod(x - x0, P));
    const inv = batchInvert(dxs, P);
    const rs = new Array<bigint>(BATCH);
    const ks = new Array<bigint>(BATCH);
    let lambda = 0n;
    let x3 = 0n;
    for (let i = 0; i < BATCH; i++) {
      // P0 + (i+1)·G: λ = (y_i − y0)/(x_i − x0), x3 = λ² − x0 − x_i (affine addition; SEC 1 §2.2.1).
      lambda = (mod(ty[i]! - y0, P) * inv[i]!) % P;
      x3 = mod(lambda * lambda - x0 - tx[i]!, P);
      rs[i] = x3 % N;
      ks[i] = this.k + BigInt(i + 1);
    }
    // The last point, P0 + B·G, is the next base.
    this.y = mod(lambda * (x0 - x3) - y0, P);
    this.x = x3;
    this.k += BigInt(BATCH);
    this.rs = rs;
    this.kinvs = batchInvert(ks, N);
    this.used = 0;
  }

  /** ASN.1 DER ECDSA signature with a P-256 private key over a 32-byte SHA-256 digest. */
  sign(privateKey: P256PrivateKey, sha256Digest: Uint8Array): Buffer {
    if (sha256Digest.length !== 32) throw new RangeError('a SHA-256 digest is 32 bytes');
    return this.signZ(privateKey, big(sha256Digest));
  }

  /** The same over a digest given as 64 hex digits (crypto.hash returns hex faster than a Buffer). */
  signHex(privateKey: P256PrivateKey, sha256Hex: string): Buffer {
    if (sha256Hex.length !== 64) throw new RangeError('a SHA-256 digest is 64 hex digits');
    return this.signZ(privateKey, BigInt(`0x${sha256Hex}`)); // a SyntaxError for what is not hex
  }

  private signZ(privateKey: P256PrivateKey, z: bigint): Buffer {
    const d = scalarOf(privateKey);
    for (;;) {
      if (this.used === this.rs.length) this.refill();
      const r = this.rs[this.used]!;
      const s = (this.kinvs[this.used++]! * ((z + r * d) % N)) % N;
      if (r === 0n || s === 0n) continue;
      const body = derIntegerHex(r) + derIntegerHex(s);
      return Buffer.from(`30${(body.length / 2).toString(16).padStart(2, '0')}${body}`, 'hex');
    }
  }
}

/** One signer per thread is enough: nonces never repeat within it. */
export const p256 = new P256Signer();
