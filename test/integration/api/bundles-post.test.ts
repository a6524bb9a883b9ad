/**
 * POST /v1/bundles: consistent bundles are accepted and indexed; a split view the log signed raises a
 * log-integrity finding; a disagreement nothing signed by the log backs is refused without one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { bundleIntakeRoutes } from '../../../src/api/bundles-post.ts';
import { checkpointIntakeRoutes } from '../../../src/api/checkpoints-post.ts';
import { createLogger } from '../../../src/logger.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { formatCheckpoint, verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { ed25519Signer } from '../../../src/note/keys.ts';
import { signNote } from '../../../src/note/note.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { checkpointVerifierForTlog, parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { CertificateAuthorities } from '../../../src/trust/certificate-authority.ts';
import { readJson } from '../../helpers/realdata.ts';
import { SimTree } from '../../sim/tree.ts';
import { adminApp } from '../../helpers/admin-app.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import { FindingRaiser } from '../../../src/monitor/raise.ts';
import { findingId } from '../../../src/monitor/finding.ts';
import { loggedSignatures } from '../../../src/verify/logged-signatures.ts';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';

const TOKEN = 'bundle-intake-token-123456';
const SIZE = 300;

interface Setup {
  h: Harness;
  app: Hono;
  /** Replaces the rules the intake evaluates (a test's own; the others see the default set). */
  useRules: (text?: string) => void;
}

async function setUp(api: 'v1' | 'tiles', follow: { start?: bigint } = {}, origin?: string): Promise<Setup> {
  const h = await harness({ api, entries: SIZE, seed: 'intake' }, follow);
  await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(SIZE));
  const rules = checkRules([{ name: 'r.yaml', text: "rules:\n  - id: provenance-builder\n    watch: { owners: ['github.com/*'] }\n    expect: { provenance: { builders: ['https://example.com/only-this-builder'] } }\n" }]);
  if (!rules.ok) throw new Error('rules');
  let ruleSet = rules.ruleSet;
  const useRules = (text?: string) => {
    const r = text === undefined ? rules : checkRules([{ name: 'r.yaml', text }]);
    if (!r.ok) throw new Error('rules');
    ruleSet = r.ruleSet;
  };
  const cas = new CertificateAuthorities(parseTrustedRoot(readJson(h.sim.trustedRootPath)).certificateAuthorities);
  const app = adminApp(h, TOKEN, (a, helpers) => {
    // One raiser, as the daemon has: a split view raised through either intake is the same finding.
    const raiser = new FindingRaiser({ store: h.store, write: findingOps, metrics: h.metrics });
    const logs = [{ name: 'sim', tlog: h.tlog, ...(origin ? { origin } : {}) }];
    bundleIntakeRoutes(a, helpers, { store: h.store, logs, rules: () => ruleSet, raiser, cas: () => cas });
    checkpointIntakeRoutes(a, helpers, { store: h.store, logger: createLogger({ level: 'silent' }), raiser, logs });
  });
  return { h, app, useRules };
}

const post = (s: Setup, bundle: unknown, token = TOKEN) =>
  s.app.request('/v1/bundles', { method: 'POST', body: JSON.stringify(bundle), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
/** POST over real HTTP on loopback, as a pipeline sends it: the status and the JSON answer. */
async function postHttp(s: Setup, bundle: unknown): Promise<{ status: number; body: any }> {
  const server = serve({ fetch: s.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/bundles`, {
      method: 'POST',
      body: JSON.stringify(bundle),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    });
    return { status: res.status, body: await res.json() };
  } finally {
    server.close();
  }
}
const bundleOf = async (s: Setup, i: number) => (await (await s.app.request(`/v1/entries/sim/${i}/bundle`)).json()) as any;
const integrityFindings = async (s: Setup) => (await new FindingsRepo(s.h.store).list({ limit: 100, rule: 'log-integrity' })).findings;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** Another valid body than the one at `index`: the one the log has at `other`. */
const bodyAt = async (s: Setup, other: number) => (await bundleOf(s, other)).verificationMaterial.tlogEntries[0].canonicalizedBody as string;

describe('POST /v1/bundles (Rekor v1)', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp('v1');
  }, 60_000);
  afterAll(() => s.h.cleanup());

  /** What the simulator's log serves for `index` (a Rekor v1 LogEntry response, which the intake takes as it is). */
  const fromLog = async (index: number) => (await (await fetch(`${s.h.sim.url}/api/v1/log/entries?logIndex=${index}`)).json()) as Record<string, any>;

  it('needs the admin token', async () => {
    expect((await post(s, {}, 'nope-nope-nope-nope')).status).toBe(401);
  });
  it('accepts a consistent bundle, evaluates its provenance and indexes its subjects', async () => {
    const dsse = manifestOf(s.h.sim).find((l) => l.kind === 'dsse' && l.repository !== null)!;
    const bundle = await bundleOf(s, dsse.index);
    expect(bundle.dsseEnvelope).toBeDefined();
    const res = await post(s, bundle);
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as any;
    expect(results[0]).toMatchObject({ status: 'consistent', index: dsse.index });
    expect(results[0].findings.map((f: any) => f.expectation)).toEqual(['expect.provenance.builders']);
    // The bundle's certificate is the simulator's Fulcio intermediate's, and the finding says so.
    expect(results[0].findings[0].evidence.certificateIssuers).toEqual(['sigstore-intermediate']);
    const subject = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()).subject[0].digest.sha256;
    const found = (await (await s.app.request(`/v1/search?digest=sha256:${subject}`)).json()) as any;
    expect(found.entries.map((e: any) => e.index)).toContain(dsse.index);
    const repo = new FindingsRepo(s.h.store);
    const [finding] = (await repo.list({ limit: 10, rule: 'provenance-builder' })).findings;
    expect(finding).toBeDefined();
    // Posted again (a pipeline's retry): the finding stands as it is, acknowledged, not raised again.
    await repo.setStatus(finding!.id, 'acked', 'expected: a test builder', 1);
    expect((await post(s, bundle)).status).toBe(200);
    expect((await repo.list({ limit: 10, rule: 'provenance-builder' })).findings.map((f) => [f.id, f.status])).toEqual([[finding!.id, 'acked']]);
  });
  it('judges time rules at the time the mirror verified, not at an integrated time the bundle states without its SET', async () => {
    const line = manifestOf(s.h.sim).find((l) => l.kind === 'hashedrekord' && l.repository !== null)!;
    const bundle = await bundleOf(s, line.index);
    const t = bundle.verificationMaterial.tlogEntries[0];
    // Twelve hours off, into the one hour the rule allows; the proof up to the mirror's checkpoint still places it.
    const forged = line.integratedTime + 12 * 3600;
    delete t.inclusionPromise;
    t.integratedTime = String(forged);
    const hour = new Date(forged * 1000).getUTCHours();
    const hh = (h: number) => String(h % 24).padStart(2, '0');
    s.useRules(`rules:\n  - id: one-hour\n    watch: { owners: ['github.com/*'] }\n    expect:\n      timeWindow: { timezone: UTC, hours: '${hh(hour)}:00-${hh(hour + 1)}:00' }\n`);
    try {
      const res = await post(s, bundle);
      expect(res.status).toBe(200);
      const [r] = ((await res.json()) as any).results;
      expect(r).toMatchObject({ status: 'consistent', index: line.index });
      expect(r.findings).toHaveLength(1);
      expect(r.findings[0]).toMatchObject({ expectation: 'expect.timeWindow', integratedTime: line.integratedTime });
      expect(r.findings[0].evidence.violations[0]).toMatchObject({ timeSource: 'integratedTime', actual: new Date(line.integratedTime * 1000).toISOString() });
    } finally {
      s.useRules();
    }
  });
  it('accepts what the log serves itself, in Rekor\'s own LogEntry form', async () => {
    const res = await post(s, await fromLog(40));
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).results[0]).toMatchObject({ status: 'consistent', index: 40 });
  });
  it('refuses a bundle whose DSSE payload is not the one its logged entry commits to, and indexes nothing of it', async () => {
    const dsse = manifestOf(s.h.sim).filter((l) => l.kind === 'dsse');
    const bundle = await bundleOf(s, dsse[1]!.index);
    const other = await bundleOf(s, dsse[2]!.index);
    // The entry's envelope with another build's statement: the subjects it names must not become the entry's.
    bundle.dsseEnvelope.payload = other.dsseEnvelope.payload;
    const res = await post(s, bundle);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(/DSSE payload is not the one its tlog entry sim#\d+ commits to/);
    const subject = JSON.parse(Buffer.from(other.dsseEnvelope.payload, 'base64').toString()).subject[0].digest.sha256;
    const found = (await (await s.app.request(`/v1/search?digest=sha256:${subject}`)).json()) as any;
    expect(found.entries.map((e: any) => e.index)).not.toContain(dsse[1]!.index);
  });

  describe('signature material that is not what the logged entry records: refused (400), nothing stored, no finding', () => {
    // The log holds the body; the bundle's signatures and certificate are the poster's. A client checks the
    // bundle's signature with the bundle's certificate, so one the log never saw must not be stored as the
    // entry's bundle, nor its statement's provenance evaluated (no finding under the bundle's ID).
    const dsses = () => manifestOf(s.h.sim).filter((l) => l.kind === 'dsse' && l.repository !== null);
    const hashedrekords = () => manifestOf(s.h.sim).filter((l) => l.kind === 'hashedrekord' && l.san !== null);
    const bundleFinding = (index: number) => new FindingsRepo(s.h.store).get(findingId('provenance-builder', 'sim', `${index}:bundle`));

    it('a DSSE envelope with another entry\'s (valid) signature in place of the logged one', async () => {
      const [a, b] = [dsses()[3]!, dsses()[4]!];
      const bundle = await bundleOf(s, a.index);
      bundle.dsseEnvelope.signatures[0].sig = (await bundleOf(s, b.index)).dsseEnvelope.signatures[0].sig;
      const res = await postHttp(s, bundle);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'API_BAD_REQUEST', message: expect.stringMatching(new RegExp(`the bundle is not what its tlog entry sim#${a.index} records: the bundle's DSSE signatures are not the ones the log entry records`)) });
      expect(await bundleFinding(a.index)).toBeUndefined();
      // The bundle as the log recorded it is taken: what was refused was the signature.
      expect((await postHttp(s, await bundleOf(s, a.index))).status).toBe(200);
      expect(await bundleFinding(a.index)).toBeDefined();
    });
    it('one more signature in the envelope (sigstore-conformance dsse-mismatch-sig_fail)', async () => {
      const [a, b] = [dsses()[5]!, dsses()[6]!];
      const bundle = await bundleOf(s, a.index);
      bundle.dsseEnvelope.signatures.push((await bundleOf(s, b.index)).dsseEnvelope.signatures[0]);
      const res = await postHttp(s, bundle);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/DSSE signatures are not the ones the log entry records/);
      expect(await bundleFinding(a.index)).toBeUndefined();
    });
    it('a DSSE envelope whose payloadType is not the logged one (dsse: the logged signature and verifier do not sign it; intoto: the body names another)', async () => {
      const intotos = manifestOf(s.h.sim).filter((l) => l.kind === 'intoto' && l.repository !== null);
      for (const [a, why] of [
        [dsses()[7]!, /the bundle's DSSE signature does not verify over its payloadType "application\/vnd\.in-toto\+json; v=2" and payload with the verifier its log entry records/],
        [intotos[0]!, /the bundle's DSSE payloadType "application\/vnd\.in-toto\+json; v=2" is not the "application\/vnd\.in-toto\+json" its log entry records/],
      ] as const) {
        const bundle = await bundleOf(s, a.index);
        bundle.dsseEnvelope.payloadType = 'application/vnd.in-toto+json; v=2';
        const res = await postHttp(s, bundle);
        expect(res.status, a.kind).toBe(400);
        expect(res.body.error.message).toMatch(new RegExp(`the bundle is not what its tlog entry sim#${a.index} records: ${why.source}`));
        expect(await bundleFinding(a.index)).toBeUndefined();
        expect(await s.h.store.postedBundles('sim', [a.index])).toEqual([false]);
        expect((await postHttp(s, await bundleOf(s, a.index))).status, a.kind).toBe(200);
      }
    });
    it('a message signature, or a certificate, of another entry', async () => {
      const [a, b] = [hashedrekords()[0]!, hashedrekords()[1]!];
      const other = await bundleOf(s, b.index);
      const sig = await bundleOf(s, a.index);
      sig.messageSignature.signature = other.messageSignature.signature;
      const bySig = await postHttp(s, sig);
      expect(bySig.status).toBe(400);
      expect(bySig.body.error.message).toMatch(/the bundle's signature is not the one the log entry records/);
      const cert = await bundleOf(s, a.index);
      cert.verificationMaterial.certificate = other.verificationMaterial.certificate;
      const byCert = await postHttp(s, cert);
      expect(byCert.status).toBe(400);
      expect(byCert.body.error.message).toMatch(/the bundle's certificate is not the one the log entry records/);
    });
    it('a certificate of another entry under a kindVersion that is not the body\'s, which made the body undecodable and so unchecked', async () => {
      const [a, b] = [hashedrekords()[2]!, hashedrekords()[3]!];
      const cert = await bundleOf(s, a.index);
      cert.verificationMaterial.certificate = (await bundleOf(s, b.index)).verificationMaterial.certificate;
      cert.verificationMaterial.tlogEntries[0].kindVersion.version = '0.0.2'; // a Rekor v2 kind: decoded as one, the v1 body reads as none
      const res = await postHttp(s, cert);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe(`the bundle is not what its tlog entry sim#${a.index} records: body is hashedrekord 0.0.1 but the entry says hashedrekord 0.0.2`);
      expect(await s.h.store.postedBundles('sim', [a.index])).toEqual([false]);
    });
    it('left no log-integrity finding behind', async () => {
      expect(await integrityFindings(s)).toEqual([]);
    });
  });

  describe('disagreements nothing signed by the log backs: refused, no finding', () => {
    it('another body under the entry\'s proofs (they no longer verify)', async () => {
      const a = await bundleOf(s, 10);
      a.verificationMaterial.tlogEntries[0].canonicalizedBody = await bodyAt(s, 11);
      const res = await post(s, a);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toMatch(/log signatures do not verify: inclusion: .*set: /);
    });
    it('another body with no proof and no SET', async () => {
      const a = await bundleOf(s, 10);
      const t = a.verificationMaterial.tlogEntries[0];
      t.canonicalizedBody = await bodyAt(s, 11);
      delete t.inclusionProof;
      delete t.inclusionPromise;
      const res = await post(s, a);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toMatch(/differs from the one the log published to this mirror, and nothing the log signed puts it there/);
    });
    it('another root for the proof\'s tree size', async () => {
      const a = await bundleOf(s, 20);
      a.verificationMaterial.tlogEntries[0].inclusionProof.rootHash = Buffer.alloc(32, 7).toString('base64');
      const res = await post(s, a);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toMatch(/inclusion: .*checkpoint: checkpoint does not commit to the proof's tree size and root/);
    });
    it('a proof, checkpoint and SET of another history, signed with a key the trusted root does not list', async () => {
      s.h.sim.faults.enable('fork', 12);
      s.h.sim.faults.enable('wrong-key');
      try {
        const res = await post(s, await fromLog(12));
        expect(res.status).toBe(400);
        expect(((await res.json()) as any).error.message).toMatch(/checkpoint: .*set: /);
      } finally {
        s.h.sim.faults.disable('wrong-key');
        s.h.sim.faults.disable('fork');
      }
    });
    it('left no finding behind', async () => {
      expect(await integrityFindings(s)).toEqual([]);
    });
  });

  describe('a split view the log signed: a critical log-integrity finding with the evidence', () => {
    let forked: Record<string, any>;
    let sameLeaf: Record<string, any>;
    beforeAll(async () => {
      // The log shows another history from index 10 on: other readers (a pipeline) get another entry 10
      // under a checkpoint, inclusion proof and SET that all verify with its key.
      s.h.sim.faults.enable('fork', 10);
      forked = await fromLog(10);
      sameLeaf = await fromLog(25);
      s.h.sim.faults.disable('fork');
    });
    const only = (r: Record<string, any>) => Object.values(r)[0];

    it('another entry at an index, with the log\'s proof, checkpoint and SET', async () => {
      const res = await post(s, forked);
      expect(res.status).toBe(409);
      const { results } = (await res.json()) as any;
      expect(results[0]).toMatchObject({ status: 'split-view', index: 10 });
      const f = results[0].finding;
      expect(f).toMatchObject({ rule: 'log-integrity', severity: 'critical' });
      expect(f.message).toMatch(/signed another entry 10 than the one it published to this mirror/);
      expect(f.evidence.mirroredLeafHash).not.toBe(f.evidence.bundleLeafHash);
      expect(f.evidence.bundleLeafHash).toBe(Buffer.from(leafHash(Buffer.from(only(forked).body, 'base64'))).toString('hex'));
      // The evidence verifies offline with the log's key alone.
      const { checkpoint } = verifyCheckpoint(f.evidence.bundleInclusionProof.checkpoint, undefined, [checkpointVerifierForTlog(s.h.tlog)]);
      expect(checkpoint.size).toBe(BigInt(f.evidence.bundleInclusionProof.treeSize));
      expect(f.evidence.bundleSignedEntryTimestamp).toBe(only(forked).verification.signedEntryTimestamp);
    });
    it('with the SET alone (it signs the index), or the proof and checkpoint alone', async () => {
      const setOnly = structuredClone(forked);
      delete only(setOnly).verification.inclusionProof;
      expect((await post(s, setOnly)).status).toBe(409);
      const proofOnly = structuredClone(forked);
      delete only(proofOnly).verification.signedEntryTimestamp;
      expect((await post(s, proofOnly)).status).toBe(409);
    });
    it('the same entry under a signed tree head whose root is not in the mirror\'s history', async () => {
      expect(only(sameLeaf).body).toBe(await bodyAt(s, 25));
      const critical = async () => (await s.h.metrics.registry.getSingleMetric('tlogwatch_findings_total')!.get()).values.find((v) => v.labels.rule === 'log-integrity' && v.labels.severity === 'critical')?.value ?? 0;
      const before = await critical();
      const res = await post(s, sameLeaf);
      expect(res.status).toBe(409);
      const f = ((await res.json()) as any).results[0].finding;
      expect(f.message).toMatch(/signed a tree head of size \d+ whose root is not in the history it published to this mirror/);
      expect(f.evidence.bundleRoot).not.toBe(f.evidence.mirrorRoot);
      // Counted where the alert on new critical findings looks.
      expect(await critical()).toBe(before + 1);
      // The bundle's checkpoint handed over on its own is the same split view: found, not raised again.
      const note: string = only(sameLeaf).verification.inclusionProof.checkpoint; // Rekor's LogEntry form: the note itself
      const again = await s.app.request('/v1/checkpoints', { method: 'POST', body: note, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(again.status, await again.clone().text()).toBe(409);
      expect(((await again.json()) as any).finding).toMatchObject({ id: f.id, message: f.message });
      expect(await critical()).toBe(before + 1);
    });
    it('claimed for another index, the signed tree head still shows the other history', async () => {
      // The forked proof is for tree index 10; claimed as entry 11 (without the SET, which signs 10) it places nothing there.
      const moved = structuredClone(forked);
      delete only(moved).verification.signedEntryTimestamp;
      only(moved).logIndex = 11;
      const res = await post(s, moved);
      expect(res.status).toBe(409);
      expect(((await res.json()) as any).results[0].finding.message).toMatch(/signed a tree head of size 300 whose root/);
    });
  });

  it('says when the mirror cannot judge yet, and refuses what is not a bundle', async () => {
    s.h.sim.append(5);
    const res = await post(s, await fromLog(SIZE + 2));
    expect(((await res.json()) as any).results[0]).toMatchObject({ status: 'pending', index: SIZE + 2 });
    expect((await post(s, { not: 'a bundle' })).status).toBe(400);
  });
  it('past the mirror\'s tree head, a signed proof places an entry at its tree index only', async () => {
    // The log has 305 entries, the mirror has verified 300: the roots cannot be compared, the entry can.
    s.h.sim.faults.enable('fork', 10);
    const forked = await fromLog(10);
    s.h.sim.faults.disable('fork');
    const e = Object.values(forked)[0];
    expect(e.verification.inclusionProof.treeSize).toBe(SIZE + 5);
    delete e.verification.signedEntryTimestamp;
    const res = await post(s, forked);
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).results[0].finding.message).toMatch(/signed another entry 10/);
    e.logIndex = 11;
    // Claimed as entry 11, the proof places nothing there, and its tree head (305) is past the mirror's: not judged yet.
    const moved = await post(s, forked);
    expect(moved.status).toBe(200);
    expect(((await moved.json()) as any).results[0]).toMatchObject({ status: 'pending', index: 11 });
  });
});

/**
 * The tiles log's history up to `size`, with leaf `change.index` of another body when given (what a log
 * showing a pipeline another view would sign), its checkpoint signed with `key`: an inclusion proof of
 * leaf `at` up to it, as a bundle holds one.
 */
function signedHistory(s: Setup, size: number, key: 'log' | 'wrong', change?: { index: number; body: Uint8Array }) {
  const log = s.h.sim.log;
  const tree = new SimTree();
  for (let i = 0; i < size; i++) tree.append(i === change?.index ? leafHash(change.body) : log.active.tree.leaf(i));
  const rootHash = tree.root(size);
  const note = signNote(formatCheckpoint({ origin: s.h.tlog.name, size: BigInt(size), rootHash, extensions: [] }), [
    ed25519Signer(log.name, (key === 'log' ? log.logKey : log.wrongKey).privateKey),
  ]);
  return (at: number) => ({ logIndex: String(at), rootHash: b64(rootHash), treeSize: String(size), hashes: tree.inclusion(at, size).map(b64), checkpoint: { envelope: note } });
}

/**
 * A tiles bundle from a history where leaf `index` has `body` instead, its checkpoint signed with `key`:
 * for entry `index`, or for the entry `proofOf` both histories share.
 */
const forked = async (s: Setup, index: number, body: string, key: 'log' | 'wrong', size = SIZE, proofOf = index) => {
  const bundle = await bundleOf(s, proofOf);
  const t = bundle.verificationMaterial.tlogEntries[0];
  if (proofOf === index) t.canonicalizedBody = body;
  t.inclusionProof = signedHistory(s, size, key, { index, body: Buffer.from(body, 'base64') })(proofOf);
  return bundle;
};

describe('POST /v1/bundles (tiles)', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp('tiles');
  }, 60_000);
  afterAll(() => s.h.cleanup());

  const forkedBundle = (index: number, body: string, key: 'log' | 'wrong', size = SIZE) => forked(s, index, body, key, size);

  it('accepts a consistent bundle', async () => {
    const res = await post(s, await bundleOf(s, 7));
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).results[0]).toMatchObject({ status: 'consistent', index: 7 });
  });
  it('refuses another history signed with a key the trusted root does not list', async () => {
    const res = await post(s, await forkedBundle(15, await bodyAt(s, 16), 'wrong'));
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(/checkpoint: /);
    expect(await integrityFindings(s)).toEqual([]);
  });
  it('raises a split view for another entry the log signed, and refuses it moved to an index its proof contradicts', async () => {
    // A tree head past the mirror's (it cannot compare roots yet): the signed proof of entry 15 is the evidence.
    s.h.sim.append(5);
    const bundle = await forkedBundle(15, await bodyAt(s, 17), 'log', SIZE + 5);
    const res = await post(s, bundle);
    expect(res.status).toBe(409);
    const { results } = (await res.json()) as any;
    expect(results[0]).toMatchObject({ status: 'split-view', index: 15 });
    expect(results[0].finding.message).toMatch(/signed another entry 15 than the one it published to this mirror/);
    bundle.verificationMaterial.tlogEntries[0].logIndex = '16';
    // Moved to 16, the bundle contradicts its own proof (a tiles log's index is its leaf index): refused,
    // whatever its tree head says.
    const moved = await post(s, bundle);
    expect(moved.status).toBe(400);
    expect(((await moved.json()) as any).error.message).toMatch(/the proof is for index 15 but the entry says 16/);
    // Back at 15 without its tree head, nothing the log signed is left: refused.
    bundle.verificationMaterial.tlogEntries[0].logIndex = '15';
    delete bundle.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
    const unsigned = await post(s, bundle);
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as any).error.message).toMatch(/entry 15 differs from the one the log published to this mirror, and nothing the log signed puts it there/);
  });
  it('raises a split view for a signed tree head whose root is not the mirror\'s, around an entry that is', async () => {
    // Entry 30 of that history: the mirror's own leaf, under the forked root.
    const res = await post(s, await forked(s, 15, await bodyAt(s, 16), 'log', SIZE, 30));
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).results[0].finding.message).toMatch(/signed a tree head of size 300/);
  });
  it('refuses an unsigned tree head of another history', async () => {
    const bundle = await forkedBundle(15, await bodyAt(s, 17), 'log');
    delete bundle.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
    const res = await post(s, bundle);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(/nothing the log signed puts it there/);
  });
  it('does not call a bundle consistent before the mirror has verified its tree head', async () => {
    if (s.h.sim.log.size < SIZE + 5) s.h.sim.append(5);
    // The log's own history at size 305 (the mirror has verified 300): nothing differs, nothing is proven yet.
    const res = await post(s, await forkedBundle(7, await bodyAt(s, 7), 'log', SIZE + 5));
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).results[0]).toMatchObject({ status: 'pending', index: 7, reason: expect.stringMatching(/tree head of size 305 is past the 300 entries/) });
  });
  it('refuses a bundle the mirror cannot judge yet when its signature is not the one its entry records', async () => {
    if (s.h.sim.log.size < SIZE + 5) s.h.sim.append(5);
    const bundle = await forkedBundle(7, await bodyAt(s, 7), 'log', SIZE + 5);
    bundle.messageSignature.signature = (await bundleOf(s, 8)).messageSignature.signature;
    const res = await postHttp(s, bundle);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/the bundle is not what its tlog entry sim#7 records: the bundle's signature is not the one the log entry records/);
  });
  it('records a split view the log signed whatever signature material the bundle carries: the evidence is the log\'s signatures alone', async () => {
    // Entry 15's bundle, its body replaced by entry 20's in a history the log signed: the bundle's signature
    // is entry 15's, not the one its (forked) body records.
    const bundle = await forkedBundle(15, await bodyAt(s, 20), 'log');
    const [logged] = loggedSignatures(Buffer.from(bundle.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64'), 'hashedrekord', '0.0.2')!;
    expect(bundle.messageSignature.signature).not.toBe(logged);
    const before = (await integrityFindings(s)).length;
    const res = await postHttp(s, bundle);
    expect(res.status).toBe(409);
    expect(res.body.results[0]).toMatchObject({ status: 'split-view', index: 15, finding: { rule: 'log-integrity', severity: 'critical' } });
    expect((await integrityFindings(s)).length).toBe(before + 1);
    // Beside a consistent entry whose signature was swapped (refused), the split view is still recorded.
    const swapped = await bundleOf(s, 9);
    swapped.messageSignature.signature = (await bundleOf(s, 10)).messageSignature.signature;
    const both = await postHttp(s, [swapped, await forkedBundle(15, await bodyAt(s, 21), 'log')]);
    expect(both.status).toBe(409);
    expect(both.body.results.map((r: any) => r.status)).toEqual(['refused', 'split-view']);
    expect(both.body.results[0].reason).toMatch(/the bundle's signature is not the one the log entry records/);
  });
  it('records a split view once, however often it is posted, and keeps its acknowledgement', async () => {
    const bundle = await forkedBundle(15, await bodyAt(s, 18), 'log');
    const first = ((await (await post(s, bundle)).json()) as any).results[0].finding;
    const repo = new FindingsRepo(s.h.store);
    await repo.setStatus(first.id, 'acked', 'investigating INC-7', 1);
    const again = await post(s, bundle);
    expect(again.status).toBe(409);
    expect(((await again.json()) as any).results[0].finding).toMatchObject({ id: first.id, status: 'acked' });
    expect((await repo.get(first.id))!.status).toBe('acked');
  });
  it('records a signed split view even when another entry of the same document is refused', async () => {
    const split = await forkedBundle(40, await bodyAt(s, 41), 'log');
    const unsigned = await forkedBundle(50, await bodyAt(s, 51), 'wrong');
    const before = (await integrityFindings(s)).length;
    const res = await post(s, [unsigned, split]);
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).results.map((r: any) => r.status)).toEqual(['refused', 'split-view']);
    expect((await integrityFindings(s)).length).toBe(before + 1);
  });
  it('checks checkpoints against the origin the log is followed under', async () => {
    const other = await setUp('tiles', {}, 'another.example/origin');
    try {
      const res = await post(other, await bundleOf(other, 3));
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toMatch(/checkpoint origin .* is not log another\.example\/origin/);
    } finally {
      await other.h.cleanup();
    }
  });
});

/**
 * What the log signed about tiles entry `proofOf`, straight from the simulator's log (a mirror that started
 * late cannot build a bundle of it), in a history where leaf `changed` has the body of entry `changed + 1`
 * when given; its checkpoint signed with the log's key. A Rekor v2 TransparencyLogEntry, as the log's write
 * response gives it: the entry and its proof, and no signature material, which the log's body alone could
 * not fill in for a DSSE entry (it records hashes only).
 */
function simEntry(s: Setup, proofOf: number, changed?: number) {
  const bodyOf = (i: number) => Buffer.from(s.h.sim.log.bodies.get(i));
  const proof = signedHistory(s, SIZE, 'log', changed === undefined ? undefined : { index: changed, body: bodyOf(changed + 1) });
  const body = proofOf === changed ? bodyOf(proofOf + 1) : bodyOf(proofOf);
  const kind = JSON.parse(body.toString());
  return {
    logIndex: String(proofOf),
    logId: { keyId: b64(s.h.tlog.keyId) },
    kindVersion: { kind: kind.kind, version: kind.apiVersion },
    integratedTime: '0',
    canonicalizedBody: body.toString('base64'),
    inclusionProof: proof(proofOf),
  };
}

describe('POST /v1/bundles (tiles, a mirror that started at entry 100)', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp('tiles', { start: 100n });
  }, 60_000);
  afterAll(() => s.h.cleanup());

  it('compares a signed tree head with the mirror\'s root from its start on, around an entry both histories share', async () => {
    // The same tree head as the mirror's: consistent, so the mirror's root from its start on is the log's.
    const same = await post(s, simEntry(s, 200));
    expect(same.status).toBe(200);
    expect(((await same.json()) as any).results[0]).toMatchObject({ status: 'consistent', index: 200 });
    const res = await post(s, simEntry(s, 200, 150));
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).results[0].finding.message).toMatch(/signed a tree head of size 300 whose root is not in the history/);
  });
  it('says an entry before its start is not mirrored, and still judges the tree head', async () => {
    expect(((await (await post(s, simEntry(s, 20))).json()) as any).results[0]).toMatchObject({ status: 'not-mirrored', index: 20 });
    // A tree head of size 300 whose history differs, before the start (the start's frontier was verified) or after it.
    for (const changed of [10, 250]) {
      const res = await post(s, simEntry(s, 20, changed));
      expect(res.status).toBe(409);
      expect(((await res.json()) as any).results[0].finding.message).toMatch(/signed a tree head of size 300/);
    }
  });
});
