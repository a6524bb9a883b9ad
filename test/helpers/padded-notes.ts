/**
 * Signed notes padded as a hostile upstream pads them: signature lines of keys nobody has, which verifiers
 * ignore (signed-note §Verification), so the note still verifies. And the simulator's witnesses as a
 * mirror's policy: the first two configured, the third one the mirror does not know.
 */
import { randomBytes } from 'node:crypto';
import { cosignatureVkey, parseVerifierKey, rawEd25519, type CosignatureVerifier } from '../../src/note/keys.ts';
import type { WitnessPolicy } from '../../src/note/witness-policy.ts';
import type { Harness } from './mirror.ts';

/** `count` signature lines of keys nobody has, each `bytes` of signature: valid signed-note lines that verify for no one. */
export function padding(count: number, bytes: number): string {
  return Array.from({ length: count }, (_, i) => `\u2014 pad${i}.example ${randomBytes(4 + bytes).toString('base64')}\n`).join('');
}

/** `note` with `lines` put before its own signature lines (and `after` after them). */
export function padded(note: string, lines: string, after = ''): string {
  const split = note.indexOf('\n\n') + 2;
  return `${note.slice(0, split)}${lines}${note.slice(split)}${after}`;
}

/** `note` without the signature lines of `name`. */
export const without = (note: string, name: string) =>
  note
    .split('\n')
    .filter((l) => !l.startsWith(`\u2014 ${name} `))
    .join('\n');

type SimWitness = Harness['sim']['log']['witnesses'][number];

/** A simulator run with three witnesses: the first two as the log's policy (quorum 2), the third unknown to it. */
export function twoOfThreeWitnesses(h: Harness): { w1: SimWitness; w2: SimWitness; w3: SimWitness; policy: WitnessPolicy } {
  const [w1, w2, w3] = h.sim.log.witnesses as [SimWitness, SimWitness, SimWitness];
  const verifierOf = (w: SimWitness) => parseVerifierKey(cosignatureVkey(w.name, rawEd25519(w.publicKey))) as CosignatureVerifier;
  return { w1, w2, w3, policy: { witnesses: [verifierOf(w1), verifierOf(w2)], quorum: 2 } };
}
