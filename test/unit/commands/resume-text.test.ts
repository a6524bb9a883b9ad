import { describe, expect, it } from 'vitest';
import { keptText } from '../../../src/commands/resume.ts';

describe('resume: what it says it kept', () => {
  it('names the verified checkpoint when there is one', () => {
    expect(keptText(300n, 300n)).toBe('kept up to its verified checkpoint of size 300');
  });

  it('names where the entries start when no checkpoint of the current tree verified, not a "verified start"', () => {
    // A Rekor v1 store halted in a later tree before a checkpoint of it verified: kept up to where the
    // tree before it ended (resume.test.ts "moved to a later tree", fetched 200).
    const text = keptText(undefined, 200n);
    expect(text).toContain('kept up to entry 200');
    expect(text).toContain('no checkpoint of its current tree was verified yet');
    expect(text).not.toContain('verified checkpoint');
  });
});
