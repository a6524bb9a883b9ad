/**
 * What the verified-checkpoint history (Bucket.CHECKPOINT, store.ts commitPrepared) costs on disk for a log
 * that grows at every poll: one record per verified checkpoint, as a follower writes it (checkpointKey,
 * encodeJson of a VerifiedHead), for real-sized notes: a production Rekor v1 signed tree head and a Rekor v2
 * checkpoint with three witness cosignatures (the notes a mirror keeps after checkpoint-decision.ts keptNote),
 * and a padded note of ~470 KB as kept before it. Sizes are measured after a full compaction, at two
 * history lengths to show they grow linearly, then projected to a year at the default 5 s poll (17,280
 * checkpoints a day).
 *
 *   node test/bench/checkpoint-history.bench.ts          (BENCH_CHECKPOINT_DAYS=7 by default: 120,960 records)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJson, type VerifiedHead } from '../../src/store/codec.ts';
import { checkpointKey } from '../../src/store/keys.ts';
import { Store } from '../../src/store/store.ts';
import { machine } from './machine.ts';

const DAYS = Number(process.env['BENCH_CHECKPOINT_DAYS'] ?? 7);
const PER_DAY = 86_400 / 5;
const BATCH = 1000;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).reduce((sum, f) => {
    const st = statSync(join(dir, f));
    return st.isFile() ? sum + st.size : sum;
  }, 0);
}

const v1Note = (JSON.parse(readFileSync('test/fixtures/realdata/rekor-v1-api/prod_loginfo_1193050959916656506_size266676745.json', 'utf8')) as { signedTreeHead: string }).signedTreeHead;
const v2Note = (
  JSON.parse(readFileSync('test/fixtures/realdata/bundles/staging-rekor-v2/alpha3_4026478_hashedrekord-0.0.2_dsse_witness-cosigned.sigstore.json', 'utf8')) as {
    verificationMaterial: { tlogEntries: Array<{ inclusionProof: { checkpoint: { envelope: string } } }> };
  }
).verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint.envelope;
/** The v1 note with 95 unknown lines of ~5 KB, as the hostile-upstream test serves it. */
const paddedNote = v1Note.replace('\n\n', `\n\n${Array.from({ length: 95 }, (_, i) => `\u2014 pad${i}.example ${randomBytes(3704).toString('base64')}\n`).join('')}`);

/**
 * `n` records of `note`'s shape, sizes counting up from its own with as many digits (a log that grows every
 * poll), each with a root of its own in the note and the record, written in batches as commits write them.
 */
async function history(note: string, n: number): Promise<{ bytes: number; valueBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-cp-bench-'));
  try {
    const store = await Store.open(dir);
    const id = await store.logId('log');
    const [origin, size0] = note.split('\n') as [string, string];
    const rest = note.slice(note.indexOf('\n\n'));
    let valueBytes = 0;
    const at = 1_780_000_000;
    for (let lo = 0; lo < n; lo += BATCH) {
      const ops = [];
      for (let i = lo; i < Math.min(n, lo + BATCH); i++) {
        const size = BigInt(size0) + BigInt(i);
        const rootHash = randomBytes(32);
        const head: VerifiedHead = { size, rootHash, note: `${origin}\n${size}\n${rootHash.toString('base64')}${rest}`, at: at + i * 5 };
        const value = encodeJson(head);
        valueBytes += value.length;
        ops.push({ type: 'put' as const, key: checkpointKey(id, 0, size), value });
      }
      await store.writeOps(ops);
    }
    await store.compact();
    await store.close();
    return { bytes: dirBytes(dir), valueBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const base = await history(v1Note, 1);
const rows: string[] = [];
for (const [what, note, days] of [
  ['Rekor v1 signed tree head (production, ECDSA)', v1Note, DAYS],
  ['Rekor v2 checkpoint with 3 witness cosignatures (staging)', v2Note, DAYS],
  ['padded: the v1 note with 95 unknown ~5 KB lines (kept before this change)', paddedNote, 0.05],
] as const) {
  const n = Math.round(days * PER_DAY);
  const half = await history(note, Math.round(n / 2));
  const full = await history(note, n);
  const perRecord = (full.bytes - base.bytes) / n;
  const perRecordHalf = (half.bytes - base.bytes) / Math.round(n / 2);
  rows.push(`| ${what} | ${fmt(Buffer.byteLength(note))} | ${fmt(full.valueBytes / n)} | ${fmt(n)} | ${fmt(perRecordHalf)} / ${fmt(perRecord)} | ${((perRecord * PER_DAY) / 1e6).toFixed(1)} MB | ${((perRecord * PER_DAY * 365) / 1e9).toFixed(2)} GB |`);
}

process.stdout.write(`## Checkpoint history

One verified checkpoint per 5 s poll, as the follower stores them for a log that grows at every poll
(Bucket.CHECKPOINT: key → JSON VerifiedHead, "record bytes" the value), compacted. "On disk" is per
record at half and at all of the records written (the history grows linearly), over an empty store of
${fmt(base.bytes)} bytes. Machine: ${machine()}.

| note | note bytes | record bytes | records | on disk per record (½ / all) | a day | a year |
|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
`);
