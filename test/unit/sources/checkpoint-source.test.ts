import { describe, expect, it } from 'vitest';
import { checkpointUrl } from '../../../src/sources/checkpoint-source.ts';

describe('checkpointUrl', () => {
  const sumdb = { name: 'sumdb', origin: 'go.sum database tree' };
  it("asks a distributor by the log ID of the origin (transparency-dev/formats log/identifier.go's sumdb example)", () => {
    expect(checkpointUrl({ kind: 'distributor', url: 'https://distributor.example/' }, sumdb)).toBe('https://distributor.example/distributor/v0/logs/a32d071739c062f4973f1db8cc1069f517428d77105962b285bbf918c4062591/checkpoint.1');
    expect(checkpointUrl({ kind: 'distributor', url: 'https://d.example/base', witnesses: 0 }, sumdb)).toMatch(/^https:\/\/d\.example\/base\/distributor\/v0\/logs\/a32d07[0-9a-f]{58}\/checkpoint\.0$/);
  });
  it("asks a peer tlogwatch for its latest verified checkpoint of the log by the log's name", () => {
    expect(checkpointUrl({ kind: 'tlogwatch', url: 'https://peer.example/tlogwatch/' }, { name: 'log2025-1.rekor.sigstore.dev', origin: 'x' })).toBe('https://peer.example/tlogwatch/v1/logs/log2025-1.rekor.sigstore.dev/checkpoints?limit=1');
  });
  it('asks a Rekor v1 API for its LogInfo', () => {
    expect(checkpointUrl({ kind: 'rekor', url: 'https://rekor.sigstore.dev/' }, { name: 'rekor', origin: 'rekor.sigstore.dev - 1193050959916656506' })).toBe('https://rekor.sigstore.dev/api/v1/log');
  });
  it('fills a checkpoint URL with the log name, the origin (URL-encoded) and its SHA-256', () => {
    const v1 = { name: 'rekor', origin: 'rekor.sigstore.dev - 1193050959916656506' };
    expect(checkpointUrl({ kind: 'checkpoint', url: 'https://w.example/{log}/{origin}/checkpoint' }, v1)).toBe('https://w.example/rekor/rekor.sigstore.dev%20-%201193050959916656506/checkpoint');
    expect(checkpointUrl({ kind: 'checkpoint', url: 'https://w.example/{originSha256}/checkpoint' }, sumdb)).toBe('https://w.example/46613be2987d5d316f5ad065e4aa2eee26ccdd3de17a3735cd0da18156a22bdd/checkpoint');
    expect(checkpointUrl({ kind: 'checkpoint', url: 'https://cdn.example/checkpoint' }, sumdb)).toBe('https://cdn.example/checkpoint');
  });
});
