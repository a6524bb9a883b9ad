/** Entry values (src/store/entry-value.ts) and the store's read cache of log states. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import type { StoredRecord } from '../../../src/store/codec.ts';
import { decodeEntryValue, encodeEntryValue, entryValueBody } from '../../../src/store/entry-value.ts';
import { Store } from '../../../src/store/store.ts';
import { bodyAt, entryAt, fill, tempDirs } from './fixtures.ts';

const tmp = tempDirs('tlogwatch-ev-');

const v1Facts: StoredRecord['v1'] = { logID: 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d', signedEntryTimestamp: 'MEUCIQ==', treeIndex: '3', treeID: '1193050959916656506' };

describe('entry values', () => {
  it('give back the record the decoder derives from the body, with the facts kept beside it', () => {
    for (let i = 0; i < 40; i++) {
      const entry = { ...entryAt(i), observedAt: 1_800_000_000 + i, ...(i % 2 === 0 ? { observedLive: true as const } : {}) };
      const record: StoredRecord = { entry, v1: v1Facts, ...(i % 3 === 0 ? { attestation: Buffer.from(`{"i":${i}}`).toString('base64') } : {}) };
      const v = encodeEntryValue(record, bodyAt(i), 'rekor-v1');
      const got = decodeEntryValue(v, 'l', i);
      expect(got.record).toEqual(record);
      expect(Buffer.from(got.body).equals(Buffer.from(bodyAt(i)))).toBe(true);
      expect(Buffer.from(entryValueBody(v)).equals(Buffer.from(bodyAt(i)))).toBe(true);
    }
  });

  it('read a value written before observedLive existed as not observed live, and keep the format', () => {
    const live = encodeEntryValue({ entry: { ...entryAt(2), observedAt: 1_800_000_000, observedLive: true } }, bodyAt(2), 'rekor-v1');
    const old = encodeEntryValue({ entry: { ...entryAt(2), observedAt: 1_800_000_000 } }, bodyAt(2), 'rekor-v1');
    expect(live[0]).toBe(old[0]);
    expect(Buffer.from(live).toString('utf8')).toContain('"l":1');
    expect(decodeEntryValue(old, 'l', 2).record.entry.observedLive).toBeUndefined();
    expect(decodeEntryValue(live, 'l', 2).record.entry.observedLive).toBe(true);
  });

  it('refuse corrupted values with a clear error, never a crash', () => {
    const good = encodeEntryValue({ entry: entryAt(1) }, bodyAt(1), 'rekor-v1');
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const bad = new Uint8Array(good);
        bad[at] = byte;
        try {
          decodeEntryValue(bad, 'l', 1);
        } catch (e) {
          expect(isTlogwatchError(e, 'STORE_CORRUPT')).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
    for (const cut of [0, 3, 6, 10]) expect(() => decodeEntryValue(good.subarray(0, cut), 'l', 1)).toThrow(/too short|overruns|unreadable/);
  });
});

describe('readLogState', () => {
  it('serves a frozen copy that every write replaces', async () => {
    const store = await Store.open(tmp());
    await fill(store, 3);
    const a = await store.readLogState('l');
    expect(Object.isFrozen(a)).toBe(true);
    expect(await store.readLogState('l')).toBe(a);
    await store.putLogState({ ...(await store.getLogState('l'))!, status: 'halted' });
    const b = await store.readLogState('l');
    expect(b).not.toBe(a);
    expect(b!.status).toBe('halted');
    expect(await store.readLogState('nope')).toBeUndefined();
    await store.close();
  });
});
