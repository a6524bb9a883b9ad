import { describe, expect, it } from 'vitest';
import type { SignedTime } from '../../../src/verify/offline.ts';
import { signingTimeOf } from '../../../src/verify/signing-time.ts';

const tsa = (name: string, t: number): SignedTime => ({ by: 'tsa', tsa: name, time: new Date(t * 1000) });
const set = (t: number): SignedTime => ({ by: 'set', log: 'rekor.sigstore.dev', time: new Date(t * 1000) });

describe('signingTimeOf', () => {
  it('takes the SET\'s time before any timestamp, as the mirror records it', () => {
    expect(signingTimeOf([tsa('a', 100), set(200)])).toEqual({ t: 200, source: 'integratedTime (signed by the SET of rekor.sigstore.dev)' });
  });
  it('else the earliest verified timestamp: a later one can be had by holding the signature back, an earlier one never', () => {
    expect(signingTimeOf([tsa('late', 300), tsa('early', 100), tsa('mid', 200)])).toEqual({ t: 100, source: 'RFC 3161 timestamp (early)' });
  });
  it('is null (unknown) when nothing signed a time, and skips a time that is none', () => {
    expect(signingTimeOf([])).toBeNull();
    expect(signingTimeOf([tsa('nan', Number.NaN)])).toBeNull();
    expect(signingTimeOf([{ by: 'set', log: 'x', time: new Date(Number.NaN) }, tsa('ok', 5)])).toEqual({ t: 5, source: 'RFC 3161 timestamp (ok)' });
  });
});
