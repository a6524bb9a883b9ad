/**
 * The store's open-table caps (level.ts TABLES_OPEN): what keeps a catch-up's peak memory from growing with
 * the store holds only while both databases together stay under LevelDB's process-wide limit of 1,000
 * mapped tables, and each cap is one LevelDB honours rather than clips.
 */
import { describe, expect, it } from 'vitest';
import { ENTRIES_DB_OPTIONS, MAIN_DB_OPTIONS, TABLES_OPEN } from '../../../src/store/level.ts';

/** LevelDB 1.20: util/env_posix.cc MaxMmaps (64-bit); db/db_impl.cc SanitizeOptions clips max_open_files. */
const MMAP_LIMIT = 1000;
const NON_TABLE_FILES = 10;
const CLIP = { min: 64 + NON_TABLE_FILES, max: 50_000 };

describe('open-table caps', () => {
  it('both databases open with their cap', () => {
    expect(MAIN_DB_OPTIONS.maxOpenFiles).toBe(TABLES_OPEN.main);
    expect(ENTRIES_DB_OPTIONS.maxOpenFiles).toBe(TABLES_OPEN.entries);
  });

  it('the tables both can hold open fit under the mapping limit, so none is read onto the heap', () => {
    const cached = TABLES_OPEN.main - NON_TABLE_FILES + (TABLES_OPEN.entries - NON_TABLE_FILES);
    expect(cached).toBeLessThanOrEqual(MMAP_LIMIT);
  });

  it('each cap is inside the range LevelDB accepts unchanged', () => {
    for (const cap of Object.values(TABLES_OPEN)) {
      expect(cap).toBeGreaterThanOrEqual(CLIP.min);
      expect(cap).toBeLessThanOrEqual(CLIP.max);
    }
  });
});
