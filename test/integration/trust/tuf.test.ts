/**
 * The trust I/O edge: --trusted-root files, and TUF failing fast (with the hint to use --trusted-root) when
 * the repository is unreachable or silent. Network only to 127.0.0.1: a closed port and a server that never answers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTlogwatchError, type TlogwatchError } from '../../../src/errors.ts';
import { fetchTrustedRootViaTuf, loadSigningConfigFile, loadTrustedRootFile, resolveTrust, resolveTrustedRoot } from '../../../src/trust/tuf.ts';

const TUF_ROOT = 'test/fixtures/realdata/trust/prod/tuf-root.json';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tlogwatch-trust-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<TlogwatchError> {
  try {
    await p;
  } catch (e) {
    if (isTlogwatchError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('--trusted-root FILE', () => {
  it('loads a real trusted root', async () => {
    const r = loadTrustedRootFile('test/fixtures/realdata/trust/prod/trusted_root.json');
    expect(r.tlogs.map((t) => t.name)).toEqual(['rekor.sigstore.dev', 'log2025-1.rekor.sigstore.dev']);
    expect((await resolveTrustedRoot('test/fixtures/realdata/trust/staging/trusted_root.json', dir)).tlogs).toHaveLength(5);
  });
  it('a missing file, non-JSON and a wrong document say which file', () => {
    const missing = join(dir, 'nope.json');
    expect(() => loadTrustedRootFile(missing)).toThrow(expect.objectContaining({ code: 'TRUST_UNAVAILABLE', kind: 'fatal', message: expect.stringContaining(missing) }));
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{"mediaType":');
    expect(() => loadTrustedRootFile(notJson)).toThrow(expect.objectContaining({ code: 'TRUST_MALFORMED', message: `${notJson} is not JSON` }));
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, '{"mediaType":"application/json"}');
    expect(() => loadTrustedRootFile(wrong)).toThrow(expect.objectContaining({ code: 'TRUST_MALFORMED', message: expect.stringMatching(/wrong\.json: trusted root: mediaType/) }));
  });
});

describe('TUF without a reachable repository', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  let silentUrl: string;
  let closedUrl: string;
  beforeAll(async () => {
    // A port that was just free: connections are refused, as offline DNS or a firewall would fail them.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedUrl = `http://127.0.0.1:${(probe.address() as { port: number }).port}`;
    await new Promise<void>((r) => probe.close(() => r()));
    // Accepts connections and never answers: only the time budget ends the wait.
    silent = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  it('a refused connection: TRUST_UNAVAILABLE, fatal, telling the user about --trusted-root', async () => {
    const e = await rejection(fetchTrustedRootViaTuf({ cachePath: join(dir, 'refused'), mirrorURL: closedUrl, rootPath: TUF_ROOT, timeoutMs: 2000 }));
    expect(e.code).toBe('TRUST_UNAVAILABLE');
    expect(e.kind).toBe('fatal');
    expect(e.message).toMatch(/trusted_root\.json.*--trusted-root FILE/);
  });

  it('a repository that never answers: the time budget ends it', async () => {
    const e = await rejection(fetchTrustedRootViaTuf({ cachePath: join(dir, 'silent'), mirrorURL: silentUrl, rootPath: TUF_ROOT, timeoutMs: 300 }));
    expect(e.code).toBe('TRUST_UNAVAILABLE');
    expect(e.message).toMatch(/--trusted-root FILE/);
  });

  it('a mirror without a TUF root to start from', async () => {
    const e = await rejection(fetchTrustedRootViaTuf({ cachePath: join(dir, 'noroot'), mirrorURL: closedUrl, timeoutMs: 2000 }));
    expect(e.code).toBe('TRUST_UNAVAILABLE');
    expect(e.message).toMatch(/No root\.json found/);
  });
});

describe('signing configs', () => {
  const ROOT = 'test/fixtures/realdata/trust/prod/trusted_root.json';
  it('say which API each log of the trusted root speaks', async () => {
    const t = await resolveTrust({ trustedRoot: ROOT, signingConfigs: ['test/fixtures/realdata/trust/prod/signing_config_rekor_v2.v0.2.json'], cachePath: dir });
    expect(t.tlogs.map((l) => [l.baseUrl, l.type])).toEqual([
      ['https://rekor.sigstore.dev', 'rekor-v1'],
      ['https://log2025-1.rekor.sigstore.dev', 'tiles'],
    ]);
  });
  it('override the guess from the key, and a log they do not list keeps it', async () => {
    const file = join(dir, 'v1-only.json');
    writeFileSync(file, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogUrls: [{ url: 'https://log2025-1.rekor.sigstore.dev/', majorApiVersion: 1 }] }));
    const guessed = await resolveTrust({ trustedRoot: ROOT, signingConfigs: [], cachePath: dir });
    const t = await resolveTrust({ trustedRoot: ROOT, signingConfigs: [file], cachePath: dir });
    expect(t.tlogs[1]!.type).toBe('rekor-v1');
    expect(guessed.tlogs[1]!.type).toBe('tiles');
    expect(t.tlogs[0]!.type).toBe(guessed.tlogs[0]!.type);
  });
  it('a bad file says which, and nothing is followed on a guess', async () => {
    const file = join(dir, 'bad-signing.json');
    writeFileSync(file, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogUrls: [{ url: 'ftp://x', majorApiVersion: 2 }] }));
    const err = await rejection(resolveTrust({ trustedRoot: ROOT, signingConfigs: [file], cachePath: dir }));
    expect(err.code).toBe('TRUST_MALFORMED');
    expect(err.message).toContain(file);
    expect(loadSigningConfigFile('test/fixtures/realdata/trust/staging/signing_config.v0.2.json').rekorTlogUrls.length).toBeGreaterThan(0);
  });
});

describe('a TUF mirror URL written with a trailing slash', () => {
  it('is the same repository: the trusted root comes through, from the same cache', { timeout: 30_000 }, async () => {
    const { startTufRepo } = await import('../../helpers/tuf-repo.ts');
    const repo = await startTufRepo();
    try {
      const rootPath = join(dir, 'slash-tuf-root.json');
      repo.writeRoot(rootPath);
      repo.publish({ 'trusted_root.json': readFileSync('test/fixtures/realdata/trust/prod/trusted_root.json') });
      const cachePath = join(dir, 'slash-cache');
      const r = await fetchTrustedRootViaTuf({ cachePath, mirrorURL: `${repo.url}/`, rootPath });
      expect(r.tlogs.map((t) => t.name)).toEqual(['rekor.sigstore.dev', 'log2025-1.rekor.sigstore.dev']);
      expect(repo.requests).toContain('/timestamp.json');
    } finally {
      await repo.close();
    }
  });
});

describe('tufRoot, the TUF root to start from', () => {
  it('a file that is not TUF root metadata is refused naming it, and is not cached: the corrected file then works', { timeout: 30_000 }, async () => {
    const { startTufRepo } = await import('../../helpers/tuf-repo.ts');
    const repo = await startTufRepo();
    try {
      repo.publish({ 'trusted_root.json': readFileSync('test/fixtures/realdata/trust/prod/trusted_root.json') });
      const cachePath = join(dir, 'wrong-root-cache');
      // The likely mistake: Sigstore's trusted_root.json where the repository's root.json belongs.
      const wrong = 'test/fixtures/realdata/trust/prod/trusted_root.json';
      const e = await rejection(fetchTrustedRootViaTuf({ cachePath, mirrorURL: repo.url, rootPath: wrong }));
      expect(e).toMatchObject({ code: 'TRUST_MALFORMED', kind: 'fatal' });
      expect(e.message).toBe(`the TUF root (tufRoot) ${wrong} is not TUF root metadata ({"signed": {"_type": "root", …}, "signatures": […]}): give the repository's root.json, not a Sigstore trusted_root.json`);
      const truncated = join(dir, 'truncated-root.json');
      writeFileSync(truncated, '{"signed": {"_type": "ro');
      expect(await rejection(fetchTrustedRootViaTuf({ cachePath, mirrorURL: repo.url, rootPath: truncated }))).toMatchObject({ code: 'TRUST_MALFORMED', message: `the TUF root (tufRoot) ${truncated} is not JSON` });
      const right = join(dir, 'right-root.json');
      repo.writeRoot(right);
      expect((await fetchTrustedRootViaTuf({ cachePath, mirrorURL: repo.url, rootPath: right })).tlogs).toHaveLength(2);
    } finally {
      await repo.close();
    }
  });
});
