/**
 * A configured `origin` that the trusted root says the log's checkpoints cannot carry is refused when the
 * configuration is resolved against the root (followedLogs, which serve and backfill both use), not found
 * out at the first checkpoint as the log's misbehaviour. Real public-good and staging roots.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { anotherLogUnder, followedLogs } from '../../../src/daemon.ts';
import { isTlogwatchError } from '../../../src/errors.ts';
import { configuredOriginProblem } from '../../../src/trust/configured-origin.ts';
import { keyIdNamesLog, parseTrustedRoot, type TrustedRoot } from '../../../src/trust/trusted-root.ts';

const T = 'test/fixtures/realdata/trust';
const json = (p: string): { tlogs: Array<Record<string, unknown>> } & Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as never;
const prod = parseTrustedRoot(json(`${T}/prod/trusted_root.json`));
const staging = parseTrustedRoot(json(`${T}/staging/trusted_root.json`));
const NOW = new Date('2026-11-28T00:00:00Z');

/** The configured log as `followedLogs` resolves it, or the message of the CONFIG_INVALID it throws. */
function resolve(root: TrustedRoot, log: string): string {
  try {
    const [l] = followedLogs(parseConfig(`logs:\n  - ${log}\n`, 'c.yaml', {}), root, NOW);
    return `ok ${l!.follow.origin}`;
  } catch (e) {
    expect(isTlogwatchError(e, 'CONFIG_INVALID')).toBe(true);
    return (e as Error).message;
  }
}

describe('a configured origin the trusted root contradicts', () => {
  it('tiles (Rekor v2): refused naming the log, both origins and what to change', () => {
    expect(resolve(prod, '{ name: v2, type: tiles, url: "https://log2025-1.rekor.sigstore.dev", origin: log2025-1.rekor.sigstore.dev/api/v2 }')).toBe(
      'log v2 (https://log2025-1.rekor.sigstore.dev): origin "log2025-1.rekor.sigstore.dev/api/v2" is not this log\'s origin in the trusted root, "log2025-1.rekor.sigstore.dev": its key ID is the checkpoint key ID under that name, and a Rekor v2 log\'s origin is its key name, so each checkpoint would be refused as the log\'s misbehaviour (the log halted); remove `origin` (it defaults to the trusted root\'s) or set it to "log2025-1.rekor.sigstore.dev"',
    );
  });

  it("another shard's origin: says which url follows that shard", () => {
    expect(resolve(staging, '{ name: alpha, type: tiles, url: "https://log2025-alpha3.rekor.sigstage.dev", origin: log2025-alpha1.rekor.sigstage.dev }')).toMatch(
      /^log alpha \(https:\/\/log2025-alpha3\.rekor\.sigstage\.dev\): origin "log2025-alpha1\.rekor\.sigstage\.dev" is not this log's origin in the trusted root, "log2025-alpha3\.rekor\.sigstage\.dev": .*; "log2025-alpha1\.rekor\.sigstage\.dev" is the trusted root's log at https:\/\/log2025-alpha1\.rekor\.sigstage\.dev: to follow that log, set `url` to it$/,
    );
  });

  it('Rekor v1: the origin of one tree (with its tree ID) is refused, saying origin is the signer name', () => {
    expect(resolve(prod, '{ name: rekor, type: rekor-v1, url: "https://rekor.sigstore.dev", origin: "rekor.sigstore.dev - 1193050959916656506" }')).toBe(
      'log rekor (https://rekor.sigstore.dev): origin "rekor.sigstore.dev - 1193050959916656506" names one tree of this Rekor v1 log: for a Rekor v1 log `origin` is the signer name, "rekor.sigstore.dev", and each checkpoint\'s origin adds the ID of the tree it is of (" - <treeID>"), which changes when the log is sharded; remove `origin` (it defaults to the trusted root\'s) or set it to "rekor.sigstore.dev"',
    );
  });

  it('Rekor v1: another signer name is refused', () => {
    expect(resolve(prod, '{ name: rekor, type: rekor-v1, url: "https://rekor.sigstore.dev", origin: rekor.sigstage.dev }')).toMatch(
      /^log rekor \(https:\/\/rekor\.sigstore\.dev\): origin "rekor\.sigstage\.dev" is not the signer name the trusted root gives this Rekor v1 log, "rekor\.sigstore\.dev": its checkpoints are signed as rekor\.sigstore\.dev, with the origin "rekor\.sigstore\.dev - <treeID>", .*set it to "rekor\.sigstore\.dev"$/,
    );
  });
});

describe('legitimate origins are followed as configured', () => {
  it("the trusted root's own, or none (the default)", () => {
    expect(resolve(prod, '{ name: v2, type: tiles, url: "https://log2025-1.rekor.sigstore.dev", origin: log2025-1.rekor.sigstore.dev }')).toBe('ok log2025-1.rekor.sigstore.dev');
    expect(resolve(prod, '{ name: v2, type: tiles, url: "https://log2025-1.rekor.sigstore.dev/" }')).toBe('ok log2025-1.rekor.sigstore.dev');
    // Rekor v1: the signer name; the tree ID each checkpoint adds changes with the shards and is not configured.
    expect(resolve(prod, '{ name: rekor, type: rekor-v1, url: "https://rekor.sigstore.dev", origin: rekor.sigstore.dev }')).toBe('ok rekor.sigstore.dev');
  });

  it('a log reached through another URL (a proxy), found in the root by its origin', () => {
    expect(resolve(prod, '{ name: v2, type: tiles, url: "http://127.0.0.1:3000/api/v2", origin: log2025-1.rekor.sigstore.dev }')).toBe('ok log2025-1.rekor.sigstore.dev');
    expect(resolve(prod, '{ name: rekor, type: rekor-v1, url: "http://127.0.0.1:3001", origin: rekor.sigstore.dev }')).toBe('ok rekor.sigstore.dev');
  });

  it('a tiles log whose trusted-root entry states no origin (an ECDSA key: its key ID names nothing) keeps any origin', () => {
    const raw = json(`${T}/prod/trusted_root.json`);
    const ecdsaTiles = { ...raw.tlogs[0]!, baseUrl: 'https://tiles.example.com' };
    const root = parseTrustedRoot({ ...raw, tlogs: [ecdsaTiles] });
    expect(keyIdNamesLog(root.tlogs[0]!)).toBe(false);
    expect(resolve(root, '{ name: t, type: tiles, url: "https://tiles.example.com", origin: "example tiles tree" }')).toBe('ok example tiles tree');
    // As a Rekor v1 log, the same key signs under the root's name only.
    expect(resolve(root, '{ name: t, type: rekor-v1, url: "https://tiles.example.com", origin: "example tiles tree" }')).toMatch(/is not the signer name the trusted root gives this Rekor v1 log, "tiles\.example\.com"/);
  });

  it('every log of the real roots passes with its own name as origin, as the default follow gives it', () => {
    for (const root of [prod, staging]) {
      for (const t of root.tlogs) expect(configuredOriginProblem({ name: 'x', type: t.type, url: t.baseUrl, origin: t.name }, t, root)).toBeUndefined();
    }
  });
});

describe('a stored log whose configured origin changed', () => {
  const stored = { name: 'x', type: 'tiles', url: 'https://log.example/', origin: 'log.example/old', status: 'halted', frontier: new Uint8Array(), startIndex: 0n } as const;
  const follow = (url: string, origin: string) => ({ name: 'x', type: 'tiles', url, origin, start: 0n, pollIntervalMs: 5000, batchSize: 100, concurrency: 1, requestsPerMinute: 60 }) as const;

  it('at the same URL, says to follow the log under a new name or restore the origin, not to restore a URL that never changed', () => {
    const said = anotherLogUnder({ ...stored }, follow('https://log.example', 'log.example/new'));
    expect(said).toContain('the stored history was judged under the old origin');
    expect(said).toContain('or restore the old origin');
    expect(said).not.toContain('restore the old url');
  });

  it('at another URL, says to restore the URL', () => {
    expect(anotherLogUnder({ ...stored }, follow('https://other.example/', 'log.example/new'))).toContain('or restore the old url');
  });

  it('with the same origin and type, is the same log', () => {
    expect(anotherLogUnder({ ...stored }, follow('https://other.example/', 'log.example/old'))).toBeUndefined();
  });
});
