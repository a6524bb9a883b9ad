/** Bit helpers on bigint tree sizes and indexes (sizes pass 2^32; DESIGN.md principle 4). */

/** Number of bits needed to represent n (bitLength(0) = 0). */
export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Largest power of two strictly less than n (n > 1): RFC 9162's k in MTH's split. */
export function splitPoint(n: bigint): bigint {
  return 1n << BigInt(bitLength(n - 1n) - 1);
}

export function popcount(n: bigint): number {
  let c = 0;
  for (let x = n; x > 0n; x >>= 1n) c += Number(x & 1n);
  return c;
}

export function trailingOnes(n: bigint): number {
  let c = 0;
  for (let x = n; (x & 1n) === 1n; x >>= 1n) c++;
  return c;
}
