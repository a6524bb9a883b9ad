/**
 * The key readers of Rekor's `publicKey` search (src/entries/rekor-pki) read what a client posts: any bytes
 * either give canonical forms or fail with the reader's own error, which the route answers with a 400
 * naming what is wrong. A RangeError from a truncated length would be a message about buffer offsets.
 * Seeds: a real GnuPG export, armored and binary (test/fixtures/keys/README.md), and an ssh key line.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPublicKeys } from '../../../src/entries/rekor-pki/public-key.ts';
import { PgpKeyError } from '../../../src/entries/rekor-pki/pgp.ts';
import { SshKeyError } from '../../../src/entries/rekor-pki/ssh.ts';

const armored = readFileSync('test/fixtures/keys/alice-pgp.asc');
const binary = readFileSync('test/fixtures/keys/alice-pgp.gpg');
const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
const sshBlob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), ed]);
const sshLine = Buffer.from(`ssh-ed25519 ${sshBlob.toString('base64')} alice@example.com\n`);

/** The seed with some bytes set and maybe cut short. */
const mutated = (seeds: Buffer[]) =>
  fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.option(fc.nat())).map(([seed, sets, cut]) => {
    const b = Buffer.from(seed);
    for (const [i, v] of sets) b[i % b.length] = v;
    return cut === null ? b : b.subarray(0, cut % b.length);
  });

describe('Rekor publicKey readers on hostile keys', () => {
  it('the seeds read', () => {
    expect(canonicalPublicKeys('pgp', armored)).toEqual(canonicalPublicKeys('pgp', binary));
    expect(canonicalPublicKeys('ssh', sshLine)).toHaveLength(1);
  });

  it('pgp: a changed or cut key gives canonical forms or a PgpKeyError, nothing else', () => {
    fc.assert(
      fc.property(mutated([armored, binary]), (b) => {
        try {
          expect(canonicalPublicKeys('pgp', b).length).toBeGreaterThan(0);
        } catch (e) {
          if (!(e instanceof PgpKeyError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('pgp: truncated length headers are PgpKeyErrors', () => {
    for (const b of [[0xc6, 0xff, 0, 0], [0xc6, 0xc0], [0x99, 0x01], [0xc2, 0x03, 4, 0x13, 1]]) expect(() => canonicalPublicKeys('pgp', Buffer.from(b))).toThrow(PgpKeyError);
  });

  it('ssh: a changed or cut key line gives a canonical form or an SshKeyError', () => {
    fc.assert(
      fc.property(mutated([sshLine]), (b) => {
        try {
          canonicalPublicKeys('ssh', b);
        } catch (e) {
          if (!(e instanceof SshKeyError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
