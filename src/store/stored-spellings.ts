/**
 * The values an index field holds that are spelled one of several ways per position (api/rekor-case.ts:
 * the case forms of a folded SAN), found without a second index. The field's keys are sorted by value
 * (keys.ts INDEX), so the walk goes down the spellings as down a trie: a prefix is followed only while some
 * key starts with it, and each seek's answer (the first key at or after its target) also answers every
 * later target up to that key, so a prefix that only one stored value has costs no more seeks. A lookup
 * of one stored spelling takes a handful of seeks, however long the value; each case variant the index
 * really holds adds a few.
 */
import type { Level } from 'level';
import { Bucket, prefixEnd } from './keys.ts';

/**
 * Every value of index `field` that is, at each position i, one of `forms[i]` (byte strings), in key order;
 * undefined when finding them took more than `maxSeeks` seeks (a bound for hostile values).
 */
export async function storedSpellings(db: Level<Uint8Array, Uint8Array>, field: number, forms: readonly (readonly Uint8Array[])[], maxSeeks: number): Promise<Uint8Array[] | undefined> {
  const base = Buffer.of(Bucket.INDEX, field);
  const it = db.keys({ gte: base, lt: prefixEnd(base) });
  let seeks = 0;
  // The last seek: its target, and the first key at or after it (null: none).
  let from: Buffer | undefined;
  let first: Buffer | null = null;
  const firstAtOrAfter = async (target: Buffer): Promise<Buffer | null> => {
    if (from && from.compare(target) <= 0 && (first === null || first.compare(target) >= 0)) return first;
    if (++seeks > maxSeeks) throw new GaveUp();
    it.seek(target);
    const k = await it.next();
    from = target;
    first = k === undefined ? null : Buffer.from(k);
    return first;
  };
  const held = async (prefix: Buffer) => {
    const k = await firstAtOrAfter(prefix);
    return k !== null && k.subarray(0, prefix.length).equals(prefix);
  };
  const found: Uint8Array[] = [];
  const walk = async (prefix: Buffer, i: number): Promise<void> => {
    // A value ends where its key has the 0x00 separator (values never hold one).
    if (i === forms.length) {
      if (await held(Buffer.concat([prefix, ZERO]))) found.push(new Uint8Array(prefix.subarray(base.length)));
      return;
    }
    for (const f of forms[i]!) {
      const next = Buffer.concat([prefix, f]);
      if (await held(next)) await walk(next, i + 1);
    }
  };
  try {
    await walk(base, 0);
    // The walk goes spelling by spelling, and one spelling can be a prefix of another ("i", "i̇").
    return found.sort((a, b) => Buffer.compare(a, b));
  } catch (e) {
    if (e instanceof GaveUp) return undefined;
    throw e;
  } finally {
    await it.close();
  }
}

const ZERO = Buffer.of(0);

class GaveUp extends Error {}
