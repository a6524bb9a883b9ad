/**
 * Merkle hot paths against raw SHA-256 in the same run (issue 2 targets):
 * - compact-range append ≥ 50% of `crypto.createHash('sha256')` throughput on 65-byte inputs;
 * - inclusion verification of a 32-hash proof ≥ 100,000 proofs/s.
 *   npx node test/bench/merkle.bench.ts
 */
import { createHash, hash, randomBytes } from 'node:crypto';
import { CompactRange } from '../../src/merkle/compact.ts';
import { rootFromInclusionProof, verifyInclusion } from '../../src/merkle/proof.ts';
import { fmt, machine, opsPerSecond } from './machine.ts';

const input65 = randomBytes(65);
const leaves = Array.from({ length: 4096 }, () => new Uint8Array(randomBytes(32)));

const rawCreateHash = opsPerSecond((n) => {
  for (let i = 0; i < n; i++) createHash('sha256').update(input65).digest();
}, 1000);
const rawOneShot = opsPerSecond((n) => {
  for (let i = 0; i < n; i++) hash('sha256', input65, 'buffer');
}, 1000);
let range = CompactRange.empty();
const append = opsPerSecond((n) => {
  if (range.size > 50_000_000n) range = CompactRange.empty();
  for (let i = 0; i < n; i++) range.append(leaves[i & 4095]!);
}, 4096);

const proof = Array.from({ length: 32 }, () => new Uint8Array(randomBytes(32)));
const size = 1n << 32n; // a perfect tree: every proof has exactly 32 hashes
const index = 987_654_321n;
const leaf = leaves[0]!;
const root = rootFromInclusionProof(index, size, leaf, proof);
const verify = opsPerSecond((n) => {
  for (let i = 0; i < n; i++) verifyInclusion(index, size, leaf, proof, root);
}, 200);

const ratio = append / rawCreateHash;
process.stdout.write(`## Merkle

Machine: ${machine()}

| measurement | result | baseline (same run) | target |
|---|---|---|---|
| raw \`createHash('sha256')\`, 65-byte input | ${fmt(rawCreateHash)} hashes/s | — | — |
| raw \`crypto.hash('sha256')\` one-shot, 65-byte input | ${fmt(rawOneShot)} hashes/s | — | — |
| \`CompactRange.append\` (one node hash per leaf on average) | ${fmt(append)} appends/s | ${(ratio * 100).toFixed(0)}% of createHash | ≥ 50% ${ratio >= 0.5 ? '✔' : '✘'} |
| \`verifyInclusion\`, 32-hash proof, tree of 2^32 | ${fmt(verify)} proofs/s | — | ≥ 100,000 ${verify >= 100_000 ? '✔' : '✘'} |

`);
