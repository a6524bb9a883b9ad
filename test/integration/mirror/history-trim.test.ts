/**
 * A store made before 3e6fdec kept each verified checkpoint as received, padding lines and all; the
 * background trim (history-trim-task.ts, store/history-trim.ts) keeps each record's note as the mirror keeps
 * one now: the log's line and its configured witnesses' valid cosignatures. A record no configured key
 * verifies (the log's key rotated out) is left as it is and counted. The old records are written directly,
 * as the old mirror wrote them; real simulator over loopback, real LevelDB.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runHistoryTrim, type TrimmedLog } from '../../../src/history-trim-task.ts';
import { createLogger } from '../../../src/logger.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { ed25519Signer } from '../../../src/note/keys.ts';
import { parseNote, signNote } from '../../../src/note/note.ts';
import { cosignaturesOf } from '../../../src/note/witness-policy.ts';
import { decodeJson, encodeJson, type VerifiedHead } from '../../../src/store/codec.ts';
import { checkLog } from '../../../src/store/check.ts';
import { Bucket, key, prefixEnd, u16 } from '../../../src/store/keys.ts';
import { checkpointVerifierForTlog } from '../../../src/trust/trusted-root.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { startDaemon } from '../../../src/daemon.ts';
import { Store } from '../../../src/store/store.ts';
import { harnessPerTest } from '../../helpers/harness-per-test.ts';
import { padded, padding, twoOfThreeWitnesses, without } from '../../helpers/padded-notes.ts';
import { reply } from '../../helpers/hostile-proxy.ts';
import { roundsUntil, type Harness } from '../../helpers/mirror.ts';

const t = harnessPerTest();

/** A note as an upstream that padded it served it: 20 lines of ~3.7 KB. */
const padded20 = (note: string) => padded(note, padding(20, 3700));

async function records(h: Pick<Harness, 'store'>): Promise<Array<{ key: Uint8Array; head: VerifiedHead; bytes: number }>> {
  const prefix = key(Bucket.CHECKPOINT, u16(await h.store.logId('sim')));
  const out: Array<{ key: Uint8Array; head: VerifiedHead; bytes: number }> = [];
  for await (const [k, v] of h.store.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) out.push({ key: k, head: decodeJson<VerifiedHead>(v), bytes: k.length + v.length });
  return out;
}

/** A logger whose lines the test reads. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  const logger = createLogger({ level: 'info', destination: out });
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('trimming a checkpoint history kept before only verified lines were kept', () => {
  it("rewrites each padded record with the log's line and its configured witnesses' cosignatures, leaves one no key verifies, once", async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'history-trim', witnesses: 3 });
    const { w3, policy } = twoOfThreeWitnesses(h);
    // The notes as the log served them (with the third witness, whom this mirror does not know).
    const served = new Map<bigint, string>();
    await t.proxy(async (req, res) => {
      const u = await req.forward();
      if (req.path.endsWith('/checkpoint') && u.status === 200) {
        const note = u.body.toString('utf8');
        served.set(BigInt(parseNote(note).text.split('\n')[1]!), note);
      }
      reply(res, u);
    });
    const { follower } = t.followerVia({ witnesses: policy });
    const polls = 8;
    for (let i = 0; i < polls; i++) {
      if (i > 0) h.sim.append(5);
      expect(await follower.round()).toBe('advanced');
    }

    // The store as an older tlogwatch left it: each record's note as received, with 20 padding lines; one
    // record signed by a key the log no longer has (a rotated key), padded too.
    const before = await records(h);
    expect(before).toHaveLength(polls);
    const rotated = before[2]!;
    const oldKey = generateKeyPairSync('ed25519').privateKey;
    const rotatedNote = padded20(signNote(parseNote(rotated.head.note).text, [ed25519Signer(h.tlog.name, oldKey)]));
    for (const r of before) {
      const note = r === rotated ? rotatedNote : padded20(served.get(r.head.size)!);
      await h.store.db.put(r.key, encodeJson({ ...r.head, note }));
    }
    const oldBytes = (await records(h)).reduce((a, r) => a + r.bytes, 0);
    expect(oldBytes).toBeGreaterThan(polls * 20 * 3700);

    const logs: TrimmedLog[] = [{ name: 'sim', verifiers: [checkpointVerifierForTlog(h.tlog)], witnesses: policy }];
    const { logger, lines } = capturedLogger();
    // Two records a batch, cut short after the first batch: the next start resumes after it.
    const abort = new AbortController();
    let rekept = 0;
    const cut: TrimmedLog[] = [{ ...logs[0]!, verifiers: [{ ...logs[0]!.verifiers[0]!, verify: (text, sig) => (++rekept === 2 && abort.abort(), logs[0]!.verifiers[0]!.verify(text, sig)) }] }];
    await runHistoryTrim(h.store, cut, logger, abort.signal, 2);
    expect(await h.store.getHistoryTrim('sim')).toMatchObject({ done: false, records: 2, trimmed: 2 });
    await runHistoryTrim(h.store, logs, logger, new AbortController().signal, 2);

    const after = await records(h);
    expect(after.map((r) => r.key)).toEqual(before.map((r) => r.key));
    for (const [i, r] of after.entries()) {
      // Size, root and time as they were; the note is the served one without the padding and the unknown witness.
      expect({ ...r.head, note: '' }).toEqual({ ...before[i]!.head, note: '' });
      if (i === 2) {
        expect(r.head.note).toBe(rotatedNote);
        continue;
      }
      expect(r.head.note).toBe(without(served.get(r.head.size)!, w3.name));
      expect(verifyCheckpoint(r.head.note, h.tlog.name, [checkpointVerifierForTlog(h.tlog)]).checkpoint.size).toBe(r.head.size);
      expect(cosignaturesOf(r.head.note, policy)).toMatchObject({ invalid: [], missing: [], witnessed: true });
    }
    const newBytes = after.reduce((a, r) => a + r.bytes, 0);
    expect(newBytes).toBeLessThan(oldBytes / 5);
    const progress = await h.store.getHistoryTrim('sim');
    expect(progress).toMatchObject({ done: true, records: polls, trimmed: polls - 1, unverifiable: 1 });
    expect(progress!.bytesSaved).toBeGreaterThan((polls - 1) * 20 * 3700);
    const warned = lines().find((l) => l['msg'] !== undefined && /verified by none of the log's configured keys/.test(l['msg'] as string));
    expect(warned).toMatchObject({ log: 'sim', unverifiable: 1, trimmed: polls - 1 });
    expect(await checkLog(h.store, 'sim')).toMatchObject({ problems: [] });

    // Done: a later start leaves the log alone, even the record it could not verify.
    const paddedAgain = padded20(served.get(after[0]!.head.size)!);
    await h.store.db.put(after[0]!.key, encodeJson({ ...after[0]!.head, note: paddedAgain }));
    await runHistoryTrim(h.store, logs, logger, new AbortController().signal);
    expect((await records(h))[0]!.head.note).toBe(paddedAgain);
  });
});

describe('serve trims the checkpoint history of a store made before', () => {
  it('once, in the background, with the keys it follows the log with', async () => {
    const h = await t.harness({ api: 'tiles', entries: 40, seed: 'history-trim-serve' }, {}, undefined, { cliLayout: true });
    for (const size of [40n, 45n, 50n]) {
      if (size > 40n) h.sim.append(5);
      await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === size);
    }
    const kept = await records(h);
    expect(kept.length).toBeGreaterThanOrEqual(3);
    for (const r of kept) await h.store.db.put(r.key, encodeJson({ ...r.head, note: padded20(r.head.note) }));
    await h.store.close();

    const { logger, lines } = capturedLogger();
    const config = parseConfig(`dataDir: ${h.dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${h.sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: '${h.sim.url}', start: 0, requestsPerMinute: 0, pollInterval: 1h }\n`, 'serve.yaml', {});
    const d = await startDaemon(config, logger);
    try {
      await d.historyTrimmed;
    } finally {
      await d.stop();
    }
    expect(lines().find((l) => /^checkpoint history of sim: /.test(l['msg'] as string))).toMatchObject({ log: 'sim', trimmed: kept.length, unverifiable: 0 });
    const store = await Store.open(join(h.dataDir, 'store'));
    try {
      // The records the daemon's own first round may have added come after; the old ones are as first kept.
      expect((await records({ store })).slice(0, kept.length).map((r) => r.head.note)).toEqual(kept.map((r) => r.head.note));
    } finally {
      await store.close();
    }
  });
});
