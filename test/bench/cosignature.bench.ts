/**
 * What one witness cosignature costs to check, Ed25519 (type 0x04) against ML-DSA-44 (type 0x06), on a
 * Rekor v2-sized checkpoint: `cosignaturesOf` with a one-witness policy (what the follower runs on each
 * new checkpoint: note parse, line match, message, verify) and node:crypto's bare `verify` of the
 * signature alone. No target: a mirror checks a handful of cosignatures per checkpoint, once per poll.
 *
 *   npx node test/bench/cosignature.bench.ts        (or npm run bench -- cosignature)
 *
 * Cases are measured interleaved round by round (medians of 7), so load from other processes hits both.
 * Prints the "## Cosignatures" section of BENCHMARKS.md.
 */
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { formatCheckpoint } from '../../src/note/checkpoint.ts';
import { cosignatureSigner, cosignatureVkey, cosignedMessage, mldsaCosignatureSigner, mldsaCosignatureVkey, parseVerifierKey, rawEd25519, rawMldsa44, subtreeCosignedMessage, type CosignatureVerifier } from '../../src/note/keys.ts';
import { ed25519Signer } from '../../src/note/keys.ts';
import { parseNote, signNote } from '../../src/note/note.ts';
import { cosignaturesOf } from '../../src/note/witness-policy.ts';
import { utf8 } from '../../src/util/bytes.ts';
import { fmt, machine, opsPerSecond } from './machine.ts';

const ROUNDS = 7;
const ROOT = new Uint8Array(32).fill(9);
const cp = { origin: 'log2025-1.rekor.sigstore.dev', size: 123_456_789n, rootHash: ROOT, extensions: [] };
const text = formatCheckpoint(cp);
const TS = 1_767_225_600n;

interface Case {
  label: string;
  run: (n: number) => void;
  lineBytes: number;
}

function witnessCase(alg: 'ed25519' | 'ml-dsa-44'): Case[] {
  const log = generateKeyPairSync('ed25519');
  const w = alg === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ml-dsa-44');
  const signer = alg === 'ed25519' ? cosignatureSigner('w.example', w.privateKey, () => TS) : mldsaCosignatureSigner('w.example', w.privateKey, () => TS);
  const vkey = alg === 'ed25519' ? cosignatureVkey('w.example', rawEd25519(w.publicKey)) : mldsaCosignatureVkey('w.example', rawMldsa44(w.publicKey));
  const note = signNote(text, [ed25519Signer(cp.origin, log.privateKey), signer]);
  const policy = { witnesses: [parseVerifierKey(vkey) as CosignatureVerifier], quorum: 1 };
  if (!cosignaturesOf(note, policy).witnessed) throw new Error(`${alg}: the cosignature does not verify`);
  const sig = parseNote(note).signatures[1]!.signature.subarray(8);
  const message = alg === 'ed25519' ? cosignedMessage(TS, utf8.encode(text)) : subtreeCosignedMessage('w.example', TS, cp.origin, 0n, cp.size, ROOT);
  const key: KeyObject = w.publicKey;
  return [
    {
      label: `\`cosignaturesOf\`, one ${alg === 'ed25519' ? 'Ed25519 (0x04)' : 'ML-DSA-44 (0x06)'} witness`,
      run: (n) => {
        for (let i = 0; i < n; i++) cosignaturesOf(note, policy);
      },
      lineBytes: note.length - note.indexOf('\n\u2014 w.example') - 1,
    },
    {
      label: `bare \`crypto.verify\`, ${alg === 'ed25519' ? 'Ed25519' : 'ML-DSA-44'}`,
      run: (n) => {
        for (let i = 0; i < n; i++) verify(null, message, key, sig);
      },
      lineBytes: 0,
    },
  ];
}

const cases = [...witnessCase('ed25519'), ...witnessCase('ml-dsa-44')];
const rates = cases.map(() => [] as number[]);
for (let r = 0; r < ROUNDS; r++) cases.forEach((c, i) => rates[i]!.push(opsPerSecond(c.run, 20, 200, 1)));
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = rates.map(median);
const us = (ops: number) => (1e6 / ops).toFixed(1);

const rows = cases.map((c, i) => {
  const vsEd = i >= 2 ? `${(m[i - 2]! / m[i]!).toFixed(1)}× the Ed25519 time` : 'baseline';
  return `| ${c.label} | ${fmt(m[i]!)}/s | ${us(m[i]!)} µs | ${vsEd} |`;
});
process.stdout.write(`## Cosignatures

\`npx node test/bench/cosignature.bench.ts\` (src/note/cosignature.ts, cosignature-mldsa.ts). Machine: ${machine()}.
Medians of ${ROUNDS} interleaved rounds of 200 ms. A checkpoint of log2025-1.rekor.sigstore.dev with the
log's Ed25519 line and one witness line: ${cases[0]!.lineBytes} bytes for the Ed25519 cosignature line,
${cases[2]!.lineBytes} for the ML-DSA-44 one.

| measurement | rate | per check | compared with (same run) |
|---|---:|---:|---|
${rows.join('\n')}
`);
