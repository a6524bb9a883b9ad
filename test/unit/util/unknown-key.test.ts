/** The hint for a misspelt key: the schema's keys at the path, through zod's wrappers, and the closest of them. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closestKey, keysAt, unknownKeyText } from '../../../src/util/unknown-key.ts';

const Inner = z.strictObject({ quorum: z.number(), keys: z.array(z.string()) });
const Schema = z
  .strictObject({
    list: z.array(z.strictObject({ name: z.string(), inner: Inner.optional() })).default([]),
    map: z.record(z.string(), z.strictObject({ url: z.string() })).optional(),
    either: z.union([z.strictObject({ a: z.string() }), z.strictObject({ b: z.string() })]).optional(),
    piped: z.strictObject({ level: z.string() }).transform((x) => x.level).optional(),
  })
  .refine(() => true);

describe('keysAt', () => {
  it('finds the object at an issue path through default, optional, array, record, union, pipe and refine', () => {
    expect(keysAt(Schema, [])).toEqual(['list', 'map', 'either', 'piped']);
    expect(keysAt(Schema, ['list', 0])).toEqual(['name', 'inner']);
    expect(keysAt(Schema, ['list', 3, 'inner'])).toEqual(['quorum', 'keys']);
    expect(keysAt(Schema, ['map', 'anything'])).toEqual(['url']);
    expect(keysAt(Schema, ['either'])).toEqual(['a', 'b']);
    expect(keysAt(Schema, ['piped'])).toEqual(['level']);
  });
  it('is undefined where the path leads to no object', () => {
    expect(keysAt(Schema, ['list', 0, 'name'])).toBeUndefined();
    expect(keysAt(Schema, ['nowhere'])).toBeUndefined();
    expect(keysAt(z.string(), [])).toBeUndefined();
  });
});

describe('closestKey', () => {
  it('takes a key within two edits (case ignored), the nearest first', () => {
    expect(closestKey('polInterval', ['pollInterval', 'start'])).toBe('pollInterval');
    expect(closestKey('repositorys', ['repositories', 'owners'])).toBe('repositories');
    expect(closestKey('DataDir', ['dataDir'])).toBe('dataDir');
    expect(closestKey('indx', ['index', 'inbox'])).toBe('index');
  });
  it('offers nothing for a key that is not a misspelling of one', () => {
    expect(closestKey('colour', ['level'])).toBeUndefined();
    // Edits must be fewer than half the key: one letter of three is a typo, two of two is another word.
    expect(closestKey('uri', ['url', 'to'])).toBe('url');
    expect(closestKey('ab', ['to'])).toBeUndefined();
  });
});

describe('unknownKeyText', () => {
  it('names each key, its likely spelling, and the keys allowed when one has none', () => {
    expect(unknownKeyText(['polInterval'], ['pollInterval', 'start'])).toBe('unknown key "polInterval" (did you mean "pollInterval"?)');
    expect(unknownKeyText(['quorom', 'nme'], ['origins', 'keys', 'quorum'])).toBe('unknown keys "quorom" (did you mean "quorum"?), "nme"; allowed here: origins, keys, quorum');
    expect(unknownKeyText(['colour'], ['level'], (k) => k)).toBe('unknown key colour; allowed here: level');
    expect(unknownKeyText(['colour'], undefined)).toBe('unknown key "colour"');
  });
});
