/**
 * Entry values (src/store/entry-value.ts): the stored Entry JSON, the format-2 values older stores hold,
 * hostile lengths, the check that a stored record still says what its body implies, and the API's
 * spliced JSON view against the object view it replaces.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { entryView, entryViewJson } from '../../../src/api/views.ts';
import { isTlogwatchError } from '../../../src/errors.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { checkLog } from '../../../src/store/check.ts';
import type { LogState, StoredRecord } from '../../../src/store/codec.ts';
import { decodeEntryValue, encodeEntryValue, entryValueBody } from '../../../src/store/entry-value.ts';
import { Bucket, entryKey, SCHEMA_VERSION } from '../../../src/store/keys.ts';
import { Store } from '../../../src/store/store.ts';
import { bodyAt, entryAt, fill, stateOf } from './fixtures.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tlogwatch-ev-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A value as schema 2 wrote it: format 2 | decoder | u32 facts length | facts JSON (t, o, u, v1, a) | body. */
function format2(facts: Record<string, unknown>, body: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(facts));
  const out = Buffer.alloc(6 + json.length + body.length);
  out[0] = 2;
  out[1] = 1;
  out.writeUInt32BE(json.length, 2);
  json.copy(out, 6);
  out.set(body, 6 + json.length);
  return out;
}

const v1Facts: StoredRecord['v1'] = { logID: 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d', signedEntryTimestamp: 'MEUCIQ==', treeIndex: '3', treeID: '1193050959916656506' };

describe('entry values', () => {
  it('keep the committed record exactly, with the body and the facts beside it', () => {
    for (let i = 0; i < 40; i++) {
      const entry = { ...entryAt(i), observedAt: 1_800_000_000 + i };
      const record: StoredRecord = { entry, v1: v1Facts, ...(i % 3 === 0 ? { attestation: Buffer.from(`{"i":${i}}`).toString('base64') } : {}) };
      const v = encodeEntryValue(record, bodyAt(i), 'rekor-v1');
      const got = decodeEntryValue(v, 'l', i);
      expect(got.record).toEqual(record);
      expect(Buffer.from(got.body).equals(Buffer.from(bodyAt(i)))).toBe(true);
      expect(Buffer.from(entryValueBody(v)).equals(Buffer.from(bodyAt(i)))).toBe(true);
    }
  });

  it('still read format-2 values by deriving the record from the body', () => {
    const i = 9;
    const v = format2({ t: 1_700_000_000 + i, o: 1_800_000_000, v1: v1Facts, a: 'e30=' }, bodyAt(i));
    const got = decodeEntryValue(v, 'l', i);
    expect(got.record).toEqual({ entry: { ...entryAt(i), observedAt: 1_800_000_000 }, v1: v1Facts, attestation: 'e30=' });
  });

  it('refuse values whose lengths overrun, with STORE_CORRUPT and never a crash', () => {
    const good = encodeEntryValue({ entry: entryAt(1) }, bodyAt(1), 'rekor-v1');
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const bad = new Uint8Array(good);
        bad[at] = byte;
        try {
          decodeEntryValue(bad, 'l', 1);
        } catch (e) {
          expect(isTlogwatchError(e, 'STORE_CORRUPT') || isTlogwatchError(e, 'ENTRY_MALFORMED')).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
    for (const cut of [0, 3, 6, 10, 40]) expect(() => decodeEntryValue(good.subarray(0, cut), 'l', 1)).toThrow(/STORE_CORRUPT|overruns|too short|missing|unreadable/);
  });
});

describe('the spliced JSON view', () => {
  const states: Array<[string, LogState]> = [
    ['verified', { ...stateOf(CompactRange.empty()), verified: { size: 100n, rootHash: new Uint8Array(32), note: 'n', at: 1 } }],
    ['not yet verified', stateOf(CompactRange.empty())],
  ];
  it.each(states)('equals JSON.stringify(entryView) (%s)', (_, state) => {
    for (let i = 0; i < 64; i++) {
      const record: StoredRecord = { entry: entryAt(i), ...(i % 2 ? { v1: { ...v1Facts, treeIndex: String(i * 3) } } : {}), ...(i % 5 === 0 ? { attestation: 'eyJhIjoxfQ==' } : {}) };
      const v = encodeEntryValue(record, bodyAt(i), 'rekor-v1');
      expect(entryViewJson(state, { log: 'l', index: i }, v)).toBe(JSON.stringify(entryView(state, record)));
    }
  });
  it('takes format-2 values the long way, with the same result', () => {
    const state = states[0]![1];
    const v = format2({ t: 1_700_000_004 }, bodyAt(4));
    expect(JSON.parse(entryViewJson(state, { log: 'l', index: 4 }, v))).toEqual(JSON.parse(JSON.stringify(entryView(state, { entry: entryAt(4) }))));
  });
});

describe('stores of schema 2', () => {
  it('open as schema 3 and serve both formats; the check derives both', async () => {
    const dir = tmp();
    const store = await Store.open(dir);
    const { range } = await fill(store, 6);
    const id = await store.logId('l');
    // Entry 2 as schema 2 wrote it.
    await store.db.put(entryKey(id, 2), format2({ t: 1_700_000_002 }, bodyAt(2)));
    await store.db.put(new Uint8Array([Bucket.META, ...Buffer.from('schema')]), new Uint8Array([0, 2]));
    await store.close();
    const again = await Store.open(dir);
    expect([...(await again.db.get(new Uint8Array([Bucket.META, ...Buffer.from('schema')])))]).toEqual([0, SCHEMA_VERSION]);
    expect((await again.getEntry('l', 2))!.record.entry).toEqual(entryAt(2));
    expect((await checkLog(again, 'l')).problems).toEqual([]);
    expect(range.size).toBe(6n);
    await again.close();
  });
});

describe('the store check', () => {
  it('finds a stored record that no longer says what its body implies', async () => {
    const store = await Store.open(tmp());
    await fill(store, 6);
    const id = await store.logId('l');
    const forged = { ...entryAt(3), signer: { ...entryAt(3).signer!, san: 'https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main' } };
    await store.db.put(entryKey(id, 3), encodeEntryValue({ entry: forged }, bodyAt(3), 'rekor-v1'));
    const problems = (await checkLog(store, 'l')).problems.join('\n');
    expect(problems).toMatch(/entry 3: stored signer differs from what the body implies/);
    await store.close();
  });
  it('finds a stored record that lost a digest its body names', async () => {
    const store = await Store.open(tmp());
    await fill(store, 4);
    const id = await store.logId('l');
    await store.db.put(entryKey(id, 1), encodeEntryValue({ entry: { ...entryAt(1), digests: [] } }, bodyAt(1), 'rekor-v1'));
    expect((await checkLog(store, 'l')).problems.join('\n')).toMatch(/entry 1: stored digests lack sha256:/);
    await store.close();
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
