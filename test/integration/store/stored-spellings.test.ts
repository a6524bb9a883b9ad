/**
 * storedSpellings (src/store/stored-spellings.ts) against a real LevelDB, with a scan of every stored value
 * as the oracle, and the case forms it walks (src/api/rekor-case.ts) against what the SAN index stores:
 * a SAN as signed (URIs) or lower-cased by JavaScript (e-mail addresses), for SANs Go folds to the value.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseForms, goLower } from '../../../src/api/rekor-case.ts';
import { storedSpellings } from '../../../src/store/stored-spellings.ts';
import { Field, indexKey, MARKER } from '../../../src/store/keys.ts';

/** Letters whose cases differ between Go and JavaScript or map many to one (İ, Σ/ς, the Kelvin sign), and plain ones. */
const LETTERS = ['a', 'A', 'i', 'I', '\u0130', 'i\u0307', 'σ', 'Σ', 'ς', 'k', 'K', '\u212a', 's', 'S', '-', '@', 'é', 'É'];
const word = fc.array(fc.constantFrom(...LETTERS), { minLength: 1, maxLength: 6 }).map((a) => a.join(''));
/** Each spelling position as a regular expression alternation: the oracle for a walk. */
const spelledBy = (forms: Uint8Array[][]) => new RegExp(`^${forms.map((alts) => `(?:${alts.map((b) => Buffer.from(b).toString('utf8').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`).join('')}$`, 'u');

describe('case forms of a folded SAN', () => {
  it('Go folds each code point alone: İ to i, every Σ to σ, the Kelvin sign to k', () => {
    expect(goLower('İSTANBUL ΟΔΥΣΣΕΥΣ \u212a Ω ǅ HTTPS://GitHub.COM/Acme')).toBe('istanbul οδυσσευσ k ω ǆ https://github.com/acme');
    expect('ΟΔΥΣΣΕΥΣ'.toLowerCase()).toBe('οδυσσευς'); // JavaScript's final sigma, which Go does not apply
  });

  it('spell every SAN Go folds to the value, as signed and as JavaScript lower-cases it', () => {
    fc.assert(
      fc.property(word, (san) => {
        const re = spelledBy(caseForms(goLower(san)));
        expect(re.test(san)).toBe(true);
        expect(re.test(san.toLowerCase())).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('storedSpellings', () => {
  let dir: string;
  let db: Level<Uint8Array, Uint8Array>;
  const stored = new Set<string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tlw-spellings-'));
    db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const batch = db.batch();
    fc.sample(word, { numRuns: 3000, seed: 28 }).forEach((v, i) => {
      stored.add(v);
      batch.put(indexKey(Field.SAN, Buffer.from(v), 1_700_000_000 + i, 1, i), MARKER);
      // Neighbours in the key space: the same bytes under the fields on either side.
      batch.put(indexKey(Field.DIGEST, Buffer.from(v), 1, 1, i), MARKER);
      batch.put(indexKey(Field.ISSUER, Buffer.from(v), 1, 1, i), MARKER);
    });
    await batch.write();
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds exactly the stored values that spell the folded value, each once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom(...stored), word), async (q) => {
        const forms = caseForms(goLower(q));
        const re = spelledBy(forms);
        const want = [...stored].filter((v) => re.test(v)).map((v) => Buffer.from(v)).sort((a, b) => Buffer.compare(a, b));
        const got = await storedSpellings(db, Field.SAN, forms, 10_000);
        expect(got!.map((v) => Buffer.from(v).toString('utf8'))).toEqual(want.map((v) => v.toString('utf8')));
      }),
      { numRuns: 300 },
    );
  });

  it('gives up past its seek bound rather than walking on', async () => {
    const v = [...stored].find((x) => x.length >= 4)!;
    expect(await storedSpellings(db, Field.SAN, caseForms(goLower(v)), 1)).toBeUndefined();
  });
});
