/**
 * An upstream (or anything on its path) that pads each checkpoint with signature lines of keys nobody knows:
 * verifiers ignore them (signed-note §Verification), so the checkpoint verifies, and the mirror kept each
 * one as served, ~480 KB per verified checkpoint in its history for good. The mirror keeps of a note only
 * the lines it verified (mirror/checkpoint-decision.ts keptNote): the log's signature and its configured
 * witnesses' cosignatures that verified, each byte for byte, so what it stores and serves still verifies.
 * Real simulator over loopback, behind the hostile proxy (test/helpers/hostile-proxy.ts), real LevelDB.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { parseNote } from '../../../src/note/note.ts';
import { cosignaturesOf } from '../../../src/note/witness-policy.ts';
import { MAX_CHECKPOINT_BYTES } from '../../../src/sources/tiles.ts';
import { Bucket, key, prefixEnd, u16 } from '../../../src/store/keys.ts';
import { checkLog } from '../../../src/store/check.ts';
import { checkpointVerifierForTlog } from '../../../src/trust/trusted-root.ts';
import { harnessPerTest } from '../../helpers/harness-per-test.ts';
import { padded, padding, twoOfThreeWitnesses, without } from '../../helpers/padded-notes.ts';
import { editJson, reply } from '../../helpers/hostile-proxy.ts';
import { expectStoreMatchesManifest, type Harness } from '../../helpers/mirror.ts';

const t = harnessPerTest();
const state = t.state;

/** The stored verified-checkpoint history of the log: each record's bytes and its note. */
async function history(hh: Harness): Promise<{ bytes: number; notes: string[] }> {
  const prefix = key(Bucket.CHECKPOINT, u16(await hh.store.logId('sim')));
  let bytes = 0;
  const notes: string[] = [];
  for await (const [k, v] of hh.store.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
    bytes += k.length + v.length;
    notes.push((JSON.parse(Buffer.from(v).toString('utf8')) as { note: string }).note);
  }
  return { bytes, notes };
}

const sizeOf = (note: string) => BigInt(parseNote(note).text.split('\n')[1]!);

describe('a tiles log whose checkpoints come padded with unknown signature lines', () => {
  it("keeps each verified checkpoint with the log's signature and its configured witnesses' valid cosignatures only, and serves it so", async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'padded-tiles', witnesses: 3 });
    // Two of the simulator's three witnesses are the log's policy; the third is a witness this mirror does not know.
    const { w1, w2, w3, policy } = twoOfThreeWitnesses(h);
    const honest = new Map<bigint, string>();
    let servedBytes = 0;
    await t.proxy(async (req, res) => {
      const u = await req.forward();
      if (!req.path.endsWith('/checkpoint') || u.status !== 200) return reply(res, u);
      const note = u.body.toString('utf8');
      honest.set(sizeOf(note), note);
      // 95 lines of ~5 KB (with the log's and three witnesses' own, 99 lines, under MAX_SIGNATURES), and a
      // copy of witness2's line with its signature changed: under a configured witness's name and key hash, it does not verify.
      const own = note.split('\n').find((l) => l.startsWith(`\u2014 ${w2.name} `))!;
      const sig = Buffer.from(own.split(' ')[2]!, 'base64');
      sig[sig.length - 1]! ^= 1;
      const body = padded(note, padding(95, 3700), `\u2014 ${w2.name} ${sig.toString('base64')}\n`);
      expect(body.length).toBeLessThan(MAX_CHECKPOINT_BYTES);
      servedBytes = body.length;
      reply(res, { ...u, body: Buffer.from(body) });
    });
    const { follower } = t.followerVia({ witnesses: policy });
    const polls = 20;
    for (let i = 0; i < polls; i++) {
      if (i > 0) h.sim.append(7);
      expect(await follower.round()).toBe('advanced');
    }
    const size = 300n + 7n * BigInt(polls - 1);
    expect((await state())!.verified?.size).toBe(size);
    expect(servedBytes).toBeGreaterThan(450_000);

    // The history holds one record per poll, each the note as the log and the witnesses signed it, less
    // the unknown witness's line: the padding and the bad line are gone, nothing else changed.
    const stored = await history(h);
    expect(stored.notes).toHaveLength(polls);
    for (const note of stored.notes) expect(note).toBe(without(honest.get(sizeOf(note))!, w3.name));
    // Bounded: the history of 20 checkpoints is under 20 KB, where one padded note served was ~470 KB.
    expect(stored.bytes).toBeLessThan(polls * 1000);

    // Each still verifies with the log's key, and carries both configured witnesses' cosignatures.
    for (const note of stored.notes) {
      expect(verifyCheckpoint(note, h.tlog.name, [checkpointVerifierForTlog(h.tlog)]).checkpoint.size).toBe(sizeOf(note));
      expect(cosignaturesOf(note, policy)).toMatchObject({ invalid: [], missing: [], witnessed: true });
      expect(cosignaturesOf(note, policy).valid.map((v) => v.witness)).toEqual([w1.name, w2.name]);
    }
    // The state's verified note is the last of them, and the API serves the history as stored.
    const latest = without(honest.get(size)!, w3.name);
    expect((await state())!.verified?.note).toBe(latest);
    const app = createApp({ store: h.store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], witnessPolicy: () => policy });
    const page = (await (await app.request('/v1/logs/sim/checkpoints?limit=1000')).json()) as { checkpoints: Array<{ note: string }> };
    expect(page.checkpoints.map((c) => c.note)).toEqual([...stored.notes].reverse());
    const logs = (await (await app.request('/v1/logs')).json()) as Array<{ witnesses: { verifiedCosignedBy: string[] } }>;
    expect(logs[0]!.witnesses.verifiedCosignedBy).toEqual([w1.name, w2.name]);
    expect(await checkLog(h.store, 'sim')).toMatchObject({ problems: [] });
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(Number(size));
  });
});

describe('a Rekor v1 log whose signed tree heads come padded with unknown signature lines', () => {
  it('keeps and serves each as the log signed it, byte for byte, the trees before the followed one too', async () => {
    const h = await t.harness({ api: 'v1', entries: 300, seed: 'padded-v1', shards: 2 }, { start: 'latest' });
    // Every signed tree head the log served (the simulator signs each answer afresh, and ECDSA signatures differ).
    const honest = new Set<string>();
    const pad = (note: string) => {
      honest.add(note);
      return padded(note, padding(14, 800));
    };
    await t.proxy((req, res) =>
      editJson(req, res, (doc: { signedTreeHead?: string; inactiveShards?: Array<{ signedTreeHead: string }> }) => {
        if (!/\/api\/v1\/log$/.test(req.path)) return doc;
        doc.signedTreeHead = pad(doc.signedTreeHead!);
        for (const s of doc.inactiveShards ?? []) s.signedTreeHead = pad(s.signedTreeHead);
        return doc;
      }),
    );
    const { follower } = t.followerVia();
    const polls = 10;
    for (let i = 0; i < polls; i++) {
      if (i > 0) h.sim.append(5);
      await follower.round();
    }
    const s = (await state())!;
    expect(s.verified?.size).toBe(150n + 5n * BigInt(polls - 1));
    const asSigned = (note: string) => expect(honest.has(note), note).toBe(true);
    const stored = await history(h);
    expect(stored.notes.length).toBeGreaterThanOrEqual(polls - 1);
    for (const note of stored.notes) asSigned(note);
    expect(stored.bytes).toBeLessThan(stored.notes.length * 600);
    // The tree before the one followed: its final head, in the state, as the log signed it.
    expect(s.priorTrees).toHaveLength(1);
    asSigned(s.priorTrees![0]!.head.note);
    const app = createApp({ store: h.store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    const info = (await (await app.request('/api/v1/log')).json()) as { signedTreeHead: string; inactiveShards: Array<{ signedTreeHead: string }> };
    expect(info.signedTreeHead).toBe(s.verified!.note);
    asSigned(info.signedTreeHead);
    expect(info.inactiveShards).toHaveLength(1);
    asSigned(info.inactiveShards[0]!.signedTreeHead);
    verifyCheckpoint(info.signedTreeHead, undefined, [checkpointVerifierForTlog(h.tlog)]);
  });
});

describe('a log with a new checkpoint at every poll', () => {
  it('verifies, and keeps in its history, at most one checkpoint per poll interval', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'every-poll' });
    // The log grows by one entry before each checkpoint it serves, as a busy log's does between polls.
    const proxy = await t.proxy(async (req, res) => {
      if (req.path.endsWith('/checkpoint')) h.sim.append(1);
      reply(res, await req.forward());
    });
    const { follower } = t.followerVia({ pollIntervalMs: 400 });
    const stop = new AbortController();
    const began = performance.now();
    const running = follower.run(stop.signal);
    await new Promise((r) => setTimeout(r, 2000));
    stop.abort();
    await running;
    const polls = Math.ceil((performance.now() - began) / 400);
    // Each round verifies the checkpoint it polled (a round on loopback takes milliseconds); polled again
    // at once after each, the history took one checkpoint per round, not one per poll interval.
    const stored = await history(h);
    expect(stored.notes.length).toBeGreaterThanOrEqual(3);
    expect(stored.notes.length).toBeLessThanOrEqual(polls);
    expect(proxy.count(/\/checkpoint$/)).toBeLessThanOrEqual(polls);
  });
});
