/**
 * Independent clients against the mirror: bundles from GET /v1/entries/{log}/{index}/bundle verified by
 * @sigstore/verify (certificate chain to the simulated Fulcio, the artifact signature, inclusion proof,
 * checkpoint and SET), and @sigstore/sign's Rekor client reading the Rekor-compatible API.
 */
import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Rekor } from '@sigstore/sign/dist/external/rekor.js';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import { parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { artifactBytes } from '../../sim/generate.ts';
import { readJson } from '../../helpers/realdata.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { verifyTlogEntry } from '../../../src/verify/offline.ts';

describe.each(['v1', 'tiles'] as const)('clients of a %s mirror', (api) => {
  let h: Harness;
  let server: ServerType;
  let url: string;
  const SEED = `clients-${api}`;
  beforeAll(async () => {
    h = await harness({ api, entries: 400, seed: SEED });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 400n);
    const keyId = parseTrustedRoot(readJson(h.sim.trustedRootPath)).tlogs[0]!.keyId;
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], logKeyId: () => keyId });
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await h.cleanup();
  });

  it('@sigstore/verify accepts the bundles the mirror builds for hashedrekord entries', async () => {
    const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(h.sim.trustedRootPath, 'utf8'))));
    const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 0, tsaThreshold: 0 });
    const m = manifestOf(h.sim);
    const candidates = m.filter((l) => l.kind === 'hashedrekord' && l.san !== null).slice(0, 5);
    expect(candidates.length).toBeGreaterThan(2);
    for (const line of candidates) {
      const res = await fetch(`${url}/v1/entries/sim/${line.index}/bundle`);
      expect(res.status).toBe(200);
      const json = await res.json();
      const bundle = bundleFromJSON(json);
      const artifact = artifactBytes(SEED, line.index);
      if (api === 'tiles') {
        // The @sigstore/verify release installed here (3.x) predates Rekor v2 entries, and Rekor v2 has no
        // integrated time (clients need an RFC 3161 timestamp the log does not carry), so the bundle is
        // checked with tlogwatch's own offline verifier: body, inclusion and the signed checkpoint hold;
        // with no signed time for its certificate it proves the entry, not the signature (a client refuses it).
        const [t] = parseTlogEntries(json);
        const r = verifyTlogEntry(t!, parseTrustedRoot(readJson(h.sim.trustedRootPath)));
        expect(r.checks).toEqual({ body: 'ok', inclusion: 'ok', checkpoint: 'ok', set: 'absent', tsa: 'absent', certificate: 'fail' });
        expect(r.error).toMatch(/^certificate: the certificate's validity could not be judged from a signed time: the entry has no integrated time \(Rekor v2\) and no SET, and the bundle carries no RFC 3161 timestamp/);
        expect(r.ok).toBe(false);
      } else {
        const signer = verifier.verify(toSignedEntity(bundle, artifact));
        expect(signer.identity?.subjectAlternativeName).toBe(line.san);
        expect(() => verifier.verify(toSignedEntity(bundle, Buffer.from('tampered')))).toThrow();
      }
    }
    const dsse = m.find((l) => l.kind === 'dsse');
    if (dsse && api === 'tiles') expect((await fetch(`${url}/v1/entries/sim/${dsse.index}/bundle`)).status).toBe(404);
  });

  it('@sigstore/sign\'s Rekor client reads entries through the Rekor-compatible API', async () => {
    const rekor = new Rekor({ baseURL: url, retry: 0, timeout: 5000 });
    const m = manifestOf(h.sim);
    if (api !== 'v1') {
      await expect(rekor.getEntry(m[3].uuid)).rejects.toThrow();
      return;
    }
    for (const line of [m[0], m[123], m[399]]) {
      const entry = await rekor.getEntry(line.uuid);
      expect(entry.uuid.slice(-64)).toBe(line.uuid);
      expect(entry.logIndex).toBe(line.index);
      expect(entry.integratedTime).toBe(line.integratedTime);
      expect(entry.verification?.inclusionProof?.treeSize).toBe(400);
      expect(entry.verification?.signedEntryTimestamp).toMatch(/^[A-Za-z0-9+/=]+$/);
    }
  });
});
