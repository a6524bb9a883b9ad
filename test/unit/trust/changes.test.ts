/**
 * What a refreshed trusted root changes for the followed logs (src/trust/changes.ts), on Sigstore's real
 * roots: production before and after Rekor v2's first shard was listed (July 2025 → now), and staging's
 * rotation through log2025-alpha1, -alpha2, -alpha3 and log2026-1.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { followedLogs } from '../../../src/daemon.ts';
import { trustChangeFinding } from '../../../src/monitor/finding.ts';
import { caChanges, defaultLogName, trustChanges, type FollowedTlog, type TrustChange } from '../../../src/trust/changes.ts';
import { loadTrustedRootFile } from '../../../src/trust/tuf.ts';
import type { TlogTrust } from '../../../src/trust/trusted-root.ts';

const T = 'test/fixtures/realdata/trust';
const prodBefore = loadTrustedRootFile(`${T}/prod/trusted_root_pre-rekor-v2_2025-07.json`);
const prod = loadTrustedRootFile(`${T}/prod/trusted_root.json`);
const staging = loadTrustedRootFile(`${T}/staging/trusted_root.json`);
const NOW = new Date('2026-11-28T12:00:00Z');

const followedOf = (t: TlogTrust, name = defaultLogName(t)): FollowedTlog => ({ name, url: t.baseUrl, origin: t.name, keyId: t.keyId });
const summary = (cs: TrustChange[]) => cs.map((c) => (c.kind === 'listed' ? `listed ${c.tlog.baseUrl}` : c.kind === 'key-changed' || c.kind === 'unlisted' ? `${c.kind} ${c.log.url}` : `${c.kind} ${c.ca.commonName}`));
const defaultConfig = parseConfig('trustedRoot: root.json\n', 'c.yaml', {});

describe('trustChanges on real trusted roots', () => {
  it('production: a daemon that started on the July 2025 root is told about log2025-1 once it is valid', () => {
    const followed = followedLogs(defaultConfig, prodBefore, new Date('2025-07-15T00:00:00Z')).map((l) => followedOf(l.tlog, l.follow.name));
    expect(followed.map((f) => f.url)).toEqual(['https://rekor.sigstore.dev']);
    // Listed before its validity starts (2025-09-23): not yet a log to follow.
    expect(trustChanges(followed, prod, new Date('2025-09-01T00:00:00Z'))).toEqual([]);
    const changes = trustChanges(followed, prod, NOW);
    expect(summary(changes)).toEqual(['listed https://log2025-1.rekor.sigstore.dev']);
    const listed = changes[0] as Extract<TrustChange, { kind: 'listed' }>;
    expect(listed.tlog.type).toBe('tiles');
    expect(defaultLogName(listed.tlog)).toBe('log2025-1.rekor.sigstore.dev');
    // Once followed, the same root changes nothing.
    expect(trustChanges([...followed, followedOf(listed.tlog)], prod, NOW)).toEqual([]);
  });

  it('staging: a daemon following alpha1 (now expired) learns of the shards valid now, not of alpha2 (expired too)', () => {
    const alpha1 = staging.tlogs.find((t) => t.baseUrl.includes('alpha1'))!;
    const v1 = staging.tlogs.find((t) => t.baseUrl === 'https://rekor.sigstage.dev')!;
    const changes = trustChanges([followedOf(v1), followedOf(alpha1)], staging, NOW);
    expect(summary(changes)).toEqual(['listed https://log2025-alpha3.rekor.sigstage.dev', 'listed https://log2026-1.us-east4.rekor.sigstage.dev']);
    // Before log2026-1's validity (2026-06-12) only alpha3 is new.
    expect(summary(trustChanges([followedOf(v1), followedOf(alpha1)], staging, new Date('2026-01-01T00:00:00Z')))).toEqual(['listed https://log2025-alpha3.rekor.sigstage.dev']);
  });

  it('a followed log whose key the root no longer lists, and one it no longer lists at all', () => {
    const [v1, v2] = prod.tlogs as [TlogTrust, TlogTrust];
    const swapped = { ...followedOf(v2), keyId: v1.keyId };
    const gone: FollowedTlog = { name: 'old', url: 'https://log2024-9.rekor.example', origin: 'log2024-9.rekor.example', keyId: v2.keyId };
    const changes = trustChanges([followedOf(v1), swapped, gone], prod, NOW);
    expect(summary(changes)).toEqual(['key-changed https://log2025-1.rekor.sigstore.dev', 'unlisted https://log2024-9.rekor.example']);
    expect((changes[0] as Extract<TrustChange, { kind: 'key-changed' }>).listed).toEqual([v2]);
  });

  it('a configured log is matched by its origin when its URL is not the root’s (a proxy or a mirror of the log)', () => {
    const v2 = prod.tlogs[1]!;
    const viaProxy: FollowedTlog = { name: 'rekor2', url: 'https://proxy.internal/rekor2', origin: v2.name, keyId: v2.keyId };
    expect(summary(trustChanges([viaProxy], prod, NOW))).toEqual(['listed https://rekor.sigstore.dev']);
  });

  it('URLs match with or without a trailing slash', () => {
    const v1 = prod.tlogs[0]!;
    expect(trustChanges([{ ...followedOf(v1), url: `${v1.baseUrl}/` }, followedOf(prod.tlogs[1]!)], prod, NOW)).toEqual([]);
  });
});

describe('followedLogs without configured logs', () => {
  it('follows every log valid now, and an expired one only when the store mirrors it', () => {
    const names = (mirrored: string[]) => followedLogs(defaultConfig, staging, NOW, new Set(mirrored)).map((l) => `${l.follow.name}@${l.follow.start}`);
    expect(names([])).toEqual(['rekor.sigstage.dev@latest', 'log2025-alpha3.rekor.sigstage.dev@latest', 'log2026-1.us-east4.rekor.sigstage.dev@latest']);
    expect(names(['log2025-alpha1.rekor.sigstage.dev', 'not-in-the-root'])).toEqual([
      'rekor.sigstage.dev@latest',
      'log2025-alpha3.rekor.sigstage.dev@latest',
      'log2026-1.us-east4.rekor.sigstage.dev@latest',
      'log2025-alpha1.rekor.sigstage.dev@latest',
    ]);
  });
  it('one log per name: a key valid now wins over an expired one listed first', () => {
    const v1 = prod.tlogs[0]!;
    const expired: TlogTrust = { ...prod.tlogs[1]!, baseUrl: v1.baseUrl, name: v1.name, validFrom: new Date('2020-01-01T00:00:00Z'), validUntil: new Date('2021-01-01T00:00:00Z') };
    const root = { ...prod, tlogs: [expired, ...prod.tlogs] };
    const got = followedLogs(defaultConfig, root, NOW, new Set([v1.name]));
    expect(got.map((l) => l.follow.name)).toEqual(['rekor.sigstore.dev', 'log2025-1.rekor.sigstore.dev']);
    expect(got[0]!.tlog).toBe(v1);
  });
});

describe('trustChangeFinding', () => {
  const [v1, v2] = prod.tlogs as [TlogTrust, TlogTrust];
  const listed: TrustChange = { kind: 'listed', tlog: v2 };
  it('severity says what the operator has to do', () => {
    expect(trustChangeFinding(listed, 'log2025-1.rekor.sigstore.dev', true, 1).severity).toBe('info');
    expect(trustChangeFinding(listed, 'log2025-1.rekor.sigstore.dev', false, 1)).toMatchObject({ severity: 'medium', message: expect.stringMatching(/add it to `logs` to watch it$/) });
    expect(trustChangeFinding({ kind: 'key-changed', log: followedOf(v2), listed: [v1] }, 'x', true, 1)).toMatchObject({ severity: 'high', kind: 'integrity' });
    expect(trustChangeFinding({ kind: 'unlisted', log: followedOf(v2) }, 'x', true, 1).severity).toBe('low');
  });
  it('one finding per change: the same change at a later refresh has the same id, another change another', () => {
    const a = trustChangeFinding(listed, 'n', true, 1);
    expect(trustChangeFinding(listed, 'n', true, 999).id).toBe(a.id);
    expect(trustChangeFinding({ kind: 'listed', tlog: { ...v2, keyId: v1.keyId } }, 'n', true, 1).id).not.toBe(a.id);
    expect(a.evidence).toMatchObject({ change: 'listed', followed: true, baseUrl: v2.baseUrl, type: 'tiles', validFrom: '2025-09-23T00:00:00.000Z' });
  });
});

describe('caChanges on staging’s real CA rotation', () => {
  const all = staging.certificateAuthorities;
  const newest = all.find((ca) => ca.validFrom?.toISOString() === '2026-06-12T00:00:00.000Z')!;
  it('a root that adds the intermediate valid from 2026-06-12 lists a CA; taking it away unlists it; the same root changes nothing', () => {
    const before = all.filter((ca) => ca !== newest);
    expect(caChanges(before, all)).toEqual([{ kind: 'ca-listed', ca: newest }]);
    expect(caChanges(all, before)).toEqual([{ kind: 'ca-unlisted', ca: newest }]);
    expect(caChanges(all, loadTrustedRootFile(`${T}/staging/trusted_root.json`).certificateAuthorities)).toEqual([]);
    expect(caChanges(prodBefore.certificateAuthorities, prod.certificateAuthorities)).toEqual([]);
  });
  it('as findings: a new CA is medium, a removed one info, filed under the trusted root, each once', () => {
    const f = trustChangeFinding({ kind: 'ca-listed', ca: newest }, 'trusted-root', false, 1);
    expect(f).toMatchObject({ rule: 'trust-changed', severity: 'medium', log: 'trusted-root', evidence: { change: 'ca-listed', certificateAuthority: { organization: 'sigstore.dev', validFrom: '2026-06-12T00:00:00.000Z' } } });
    expect(f.message).toMatch(/^the trusted root lists a new certificate authority: sigstore\.dev \/ sigstore \(https:\/\/fulcio\.sigstage\.dev\), issuing certificate sha256 [0-9a-f]{16}…, valid from 2026-06-12T00:00:00\.000Z; Sigstore clients trust the certificates it issues$/);
    expect(trustChangeFinding({ kind: 'ca-unlisted', ca: newest }, 'trusted-root', false, 1).severity).toBe('info');
    expect(trustChangeFinding({ kind: 'ca-listed', ca: newest }, 'trusted-root', false, 99).id).toBe(f.id);
  });
});
