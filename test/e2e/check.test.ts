/**
 * `tlogwatch check` as a real process (src/cli.ts) on stores the mirror wrote from the
 * simulator: consistent stores pass (tiles from 0, Rekor v1 across trees), damage to a body, a tree hash
 * or an index key fails with what differs, and usage, a missing store and a locked one are exit 2.
 * With --from/--to, damage in the range fails it and damage outside does not.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/entries/types.ts';
import type { IndexMode } from '../../src/store/index-values.ts';
import { Bucket, entryKey, Field, key, nodeKey } from '../../src/store/keys.ts';
import { checkLog } from '../../src/store/check.ts';
import { impliedKeys } from '../../src/store/implied-keys.ts';
import { decodeJson, encodeJson, type VerifiedHead } from '../../src/store/codec.ts';
import { findingOps } from '../../src/store/findings.ts';
import type { Finding } from '../../src/monitor/finding.ts';
import { ENTRIES_DIR, Store } from '../../src/store/store.ts';
import { LEVEL_OPTIONS } from '../../src/store/level.ts';
import { Level } from 'level';
import { fill, tempDirs } from '../integration/store/fixtures.ts';
import { cli as tlogwatch } from '../helpers/cli.ts';
import { harness, roundsUntil, type Harness } from '../helpers/mirror.ts';

let h: Harness | undefined;
const tmp = tempDirs('tlogwatch-check-');
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

/** A simulator mirrored into `<dataDir>/store` up to its size; the store left open for the test to change. */
async function mirrored(api: 'tiles' | 'v1', entries: number, seed: string, shards?: number, index?: { mode: IndexMode; isWatched: (e: Entry) => boolean }, start = 0n): Promise<Harness> {
  const m = await harness({ api, entries, seed, ...(shards ? { shards } : {}) }, { batchSize: 100, start }, index && { isWatched: index.isWatched }, { cliLayout: true, ...(index ? { indexMode: index.mode } : {}) });
  await roundsUntil(m, async () => {
    const s = await m.store.getLogState('sim');
    return s?.verified !== undefined && s.verified.size + (s.shard?.offset ?? 0n) === BigInt(entries);
  });
  return m;
}

/** `index: watched` as the daemon writes it: about half the entries (by leaf hash) watched and fully indexed, the others by their digests alone. */
const watchedHalf = { mode: 'watched', isWatched: (e: Entry) => e.leafHash < '8' } as const;

describe('tlogwatch check', () => {
  it('passes a consistent tiles store, in text and in JSON', async () => {
    h = await mirrored('tiles', 300, 'cli-check');
    const { indexKeys } = await checkLog(h.store, 'sim');
    await h.store.close();
    const r = await tlogwatch(['check', '--data-dir', h.dataDir]);
    expect(r).toMatchObject({ code: 0, stderr: '1 log(s) consistent\n' });
    expect(r.stdout).toBe(
      `ok\tsim\t300 entries, ${indexKeys.toLocaleString('en-US')} index keys, 300 leaf hashes re-hashed from bodies, 1 node from its children, root of the verified checkpoint (size 300) rebuilt\n` +
        'ok\t(findings)\t0 findings, each readable and in the time index\n',
    );
    const j = await tlogwatch(['check', '--data-dir', h.dataDir, '--json', '--only', 'sim']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({ log: 'sim', ok: true, entries: 300, indexKeys, bodiesHashedTo: 'full', tree: { leaves: 300, nodes: 1, uncovered: 0 }, verifiedSize: '300', problems: [], more: 0 });
  });

  it('passes a Rekor v1 store across three trees', async () => {
    h = await mirrored('v1', 600, 'cli-check-v1', 3);
    await h.store.close();
    const r = await tlogwatch(['check', '--data-dir', h.dataDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok\tsim\t600 entries, .* 600 leaf hashes re-hashed from bodies, .*root of the verified checkpoint \(size 200\) rebuilt\nok\t\(findings\)\t0 findings, each readable and in the time index\n$/);
  });

  it('fails a store whose entry body, tree hash or index key changed, saying which', async () => {
    h = await mirrored('tiles', 300, 'cli-check-damage');
    const id = await h.store.logId('sim');
    // One byte of entry 7's stored value (its body's last byte), as a disk fault would.
    const k = entryKey(id, 7);
    const v = Buffer.from((await h.store.entryDb.get(k)));
    v[v.length - 1]! ^= 1;
    await h.store.entryDb.put(k, v);
    await h.store.db.put(nodeKey(id, 0, 0, 42n), new Uint8Array(32));
    // The verified checkpoint's record with one bit of its root flipped: the note it keeps says otherwise.
    const [cpKey, cpValue] = (await h.store.db.iterator({ gte: key(Bucket.CHECKPOINT), lt: key(Bucket.CHECKPOINT + 1) }).all()).at(-1)!;
    const cp = decodeJson<VerifiedHead>(cpValue);
    cp.rootHash = Uint8Array.from(cp.rootHash, (b, i) => (i === 0 ? b ^ 1 : b));
    await h.store.db.put(cpKey, encodeJson(cp));
    // A finding whose record lost its closing brace.
    const finding = { id: 'ab'.repeat(16), rule: 'r', kind: 'violation', severity: 'high', message: 'm', log: 'sim', index: 7, firstSeen: 1, status: 'open' };
    await h.store.writeOps(findingOps(finding as Finding).map((op) => (op.type === 'put' && op.key[0] === Bucket.FINDING ? { ...op, value: op.value.subarray(0, -1) } : op)));
    await h.store.close();
    const r = await tlogwatch(['check', '--data-dir', h.dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('1 of 1 log(s) have problems\nthe findings have problems\n');
    expect(r.stdout).toMatch(/\nFAILED\t\(findings\)\t1 findings, each readable and in the time index\n\tthe stored finding (ab){16} is damaged \(not JSON\)\n$/);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^FAILED\tsim\t300 entries/);
    expect(r.stdout).toMatch(/\tthe stored bodies hash to another root than the state's frontier\n/);
    expect(r.stdout).toMatch(/\tverified checkpoint of size 300: its root and its signed note disagree\n/);
    expect(r.stdout).toMatch(/\tthe newest verified checkpoint stored \(size 300, root [0-9a-f]{64}\) is not the state's \(size 300, root [0-9a-f]{64}\)\n/);
    expect(r.stdout).toMatch(/\tentry 7: body hashes to [0-9a-f]{64}, the stored tree has [0-9a-f]{64}\n/);
    expect(r.stdout).toMatch(/\tentry 42: body hashes to [0-9a-f]{64}, the stored tree has 0{64}\n/);
    // The changed leaf hash is under (8, 0), which the root of 300 reads instead of it.
    expect(r.stdout).toMatch(/\tnode \(8, 0\) is [0-9a-f]{64}, the 256 hashes under it give [0-9a-f]{64}\n/);
  });

  it('checks a store written with index: watched as such, with or without --config; a config with another mode is refused', async () => {
    h = await mirrored('tiles', 300, 'cli-check-watched', undefined, watchedHalf);
    await h.store.close();
    // Without --config the check once took the digest-only entries for damage: "index keys differ", exit 1.
    expect(await tlogwatch(['check', '--data-dir', h.dataDir])).toMatchObject({ code: 0, stderr: '1 log(s) consistent\n' });
    const watched = join(h.dataDir, 'watched.yaml');
    writeFileSync(watched, `dataDir: ${h.dataDir}\nindex: watched\n`);
    expect(await tlogwatch(['check', '--config', watched])).toMatchObject({ code: 0, stderr: '1 log(s) consistent\n' });
    const all = join(h.dataDir, 'all.yaml');
    writeFileSync(all, `dataDir: ${h.dataDir}\n`);
    expect(await tlogwatch(['check', '--config', all])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `tlogwatch check: the store records index: watched (the mode its entries were written with), ${all} says index: all: give the configuration the store was written with, or check it as it records with --data-dir alone\n`,
    });
    // serve with index: all says what a search will miss on this store.
    const lines: string[] = [];
    const config = parseConfig(`dataDir: ${h.dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${h.sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: '${h.sim.url}', start: 0, requestsPerMinute: 0 }\n`, 'serve.yaml', {});
    const d = await startDaemon(config, createLogger({ level: 'warn', destination: new Writable({ write: (chunk: Buffer, _enc, done) => void (lines.push(chunk.toString()), done()) }) }));
    await d.stop();
    expect(lines.map((l) => JSON.parse(l) as { msg: string; index?: string; storeIndex?: string }).filter((l) => l.storeIndex !== undefined)).toEqual([
      expect.objectContaining({ index: 'all', storeIndex: 'watched', msg: expect.stringMatching(/^index: all, on a store written with index: watched: .* searches by digest or identity miss the others/) }),
    ]);
  });

  it('with index: watched, an entry is indexed by its digests alone or, as its time key records, fully; never partly', async () => {
    h = await mirrored('tiles', 50, 'cli-check-watched-keys', undefined, watchedHalf);
    await h.store.close();
    expect((await tlogwatch(['check', '--data-dir', h.dataDir])).code).toBe(0);
    // One index key of one fully indexed entry gone: neither whole set.
    const store = await Store.open(h.storeDir);
    let dropped: Uint8Array | undefined;
    for await (const key of store.db.keys({ gte: new Uint8Array([Bucket.INDEX]), lt: new Uint8Array([Bucket.INDEX + 1]) })) {
      if (key[1] !== Field.DIGEST && key[1] !== Field.TIME) {
        dropped = key; // not a digest key: the entry is neither digest-only nor fully indexed
        break;
      }
    }
    await store.db.del(dropped!);
    await store.close();
    const r = await tlogwatch(['check', '--data-dir', h.dataDir]);
    expect(r.code).toBe(1);
    const [, want, got] = /\tentry \d+: index keys differ from what it implies \(expected (\d+), found (\d+)\)\n/.exec(r.stdout)!;
    // Its time key is still there, so it was fully indexed: one key short of that set.
    expect(Number(got)).toBe(Number(want) - 1);
  });

  it('a store from before the index mode was recorded: checked as index: all, or as the config says, saying which', async () => {
    h = await mirrored('tiles', 50, 'cli-check-unrecorded');
    // Every entry fully indexed (`index: all`), as every store was written before the record.
    await h.store.db.del(key(Bucket.META, 'indexMode'));
    await h.store.close();
    const bare = await tlogwatch(['check', '--data-dir', h.dataDir]);
    expect(bare).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok\tsim\t50 entries/) });
    expect(bare.stderr).toBe(
      'tlogwatch check: the store does not record its index mode (written before tlogwatch recorded it): checked as index: all, every entry fully indexed; give --config if the daemon runs with index: watched\n1 log(s) consistent\n',
    );
    const config = join(h.dataDir, 'tlogwatch.yaml');
    writeFileSync(config, `dataDir: ${h.dataDir}\nindex: watched\n`);
    const given = await tlogwatch(['check', '--config', config]);
    expect(given.code).toBe(0);
    expect(given.stderr).toContain(`checked as index: watched, as ${config} says\n`);
  });

  it("needs none of the daemon's secrets (${VAR} in api, notify, checkpointSources); serve still needs every one", async () => {
    h = await mirrored('tiles', 20, 'cli-check-secrets');
    await h.store.close();
    for (const name of ['TLOGWATCH_ADMIN_TOKEN', 'PEER_TOKEN', 'WEBHOOK_URL', 'SMTP_PASSWORD']) expect(process.env[name], name).toBeUndefined();
    const config = join(h.dataDir, 'tlogwatch.yaml');
    writeFileSync(
      config,
      [
        `dataDir: ${h.dataDir}`,
        'api: { adminToken: "${TLOGWATCH_ADMIN_TOKEN}" }',
        'checkpointSources: [{ name: peer, kind: tlogwatch, url: "https://peer.example", token: "${PEER_TOKEN}" }]',
        'notify:',
        '  webhooks: [{ url: "${WEBHOOK_URL}" }]',
        '  email: [{ smtp: "smtps://bot:${SMTP_PASSWORD}@smtp.example.com:465", from: a@example.com, to: [b@example.com] }]',
        '',
      ].join('\n'),
    );
    expect(await tlogwatch(['check', '--config', config])).toMatchObject({ code: 0, stderr: '1 log(s) consistent\n' });
    const serve = await tlogwatch(['serve', '--config', config]);
    expect(serve.code).toBe(2);
    for (const name of ['TLOGWATCH_ADMIN_TOKEN', 'PEER_TOKEN', 'WEBHOOK_URL', 'SMTP_PASSWORD']) expect(serve.stderr).toContain(`environment variable ${name} is not set`);
    // What check reads still needs its variable.
    writeFileSync(config, 'dataDir: ${TLOGWATCH_DATA}\n');
    expect(await tlogwatch(['check', '--config', config])).toMatchObject({ code: 2, stderr: expect.stringMatching(/dataDir: environment variable TLOGWATCH_DATA is not set/) });
  });

  it('changes nothing: a schema 2 store is refused, not upgraded in place, by check and rules test, and serve still upgrades it', async () => {
    // A schema 2 store, made from a schema 3 one as the upgrade test does: the values back in the main database.
    const dataDir = tmp();
    const dir = join(dataDir, 'store');
    const store = await Store.open(dir);
    await fill(store, 20);
    const values = await store.entryDb.iterator().all();
    await store.close();
    rmSync(join(dir, ENTRIES_DIR), { recursive: true });
    const schemaKey = key(Bucket.META, 'schema');
    const old = new Level<Uint8Array, Uint8Array>(dir, LEVEL_OPTIONS);
    await old.batch([...values.map(([k, value]) => ({ type: 'put' as const, key: k, value })), { type: 'put', key: schemaKey, value: new Uint8Array([0, 2]) }]);
    await old.close();
    const r = await tlogwatch(['check', '--data-dir', dataDir]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^tlogwatch check: STORE_SCHEMA_VERSION: the store at \S+ has schema version 2, this tlogwatch uses 3: tlogwatch serve or backfill upgrades it in place/);
    expect(existsSync(join(dir, ENTRIES_DIR))).toBe(false);
    const rt = await tlogwatch(['rules', 'test', 'monitor-rules/examples', '--data-dir', dataDir]);
    expect(rt.code).toBe(2);
    expect(rt.stderr).toMatch(/STORE_SCHEMA_VERSION: the store at \S+ has schema version 2, this tlogwatch uses 3: tlogwatch serve or backfill upgrades it in place/);
    expect(existsSync(join(dir, ENTRIES_DIR))).toBe(false);
    const after = new Level<Uint8Array, Uint8Array>(dir, LEVEL_OPTIONS);
    expect([...(await after.get(schemaKey))]).toEqual([0, 2]);
    await after.close();
    const upgraded = await Store.open(dir);
    expect((await checkLog(upgraded, 'l')).problems).toEqual([]);
    await upgraded.close();
  });

  it('with --only, counts the one log it checked in its summary, not every log in the store', async () => {
    h = await mirrored('tiles', 20, 'cli-check-only');
    const state = (await h.store.getLogState('sim'))!;
    await h.store.putLogState({ ...state, name: 'other' });
    await h.store.close();
    expect(await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'sim'])).toMatchObject({ code: 0, stderr: '1 log(s) consistent\n' });
  });

  it('exit 2: usage, no store, an unknown log, a store in use', async () => {
    h = await mirrored('tiles', 20, 'cli-check-usage');
    expect(await tlogwatch(['check', '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tlogwatch check: Unknown option '--bogus'/) });
    expect(await tlogwatch(['check', '--data-dir', join(h.dataDir, 'nothing-here')])).toMatchObject({ code: 2, stderr: `tlogwatch check: no store at ${join(h.dataDir, 'nothing-here', 'store')}: nothing has been mirrored there\n` });
    // The harness's store is still open in this process: LevelDB's lock.
    expect(await tlogwatch(['check', '--data-dir', h.dataDir])).toMatchObject({ code: 2, stderr: expect.stringMatching(/in use by another process .*: stop tlogwatch serve first/) });
    await h.store.close();
    expect(await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'rekor'])).toMatchObject({ code: 2, stderr: 'tlogwatch check: no log named rekor in the store (it holds sim)\n' });
    // A store that lost its CURRENT file is damaged, not absent, and check leaves it as it is.
    rmSync(join(h.dataDir, 'store', 'CURRENT'));
    expect(await tlogwatch(['check', '--data-dir', h.dataDir])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tlogwatch check: STORE_CORRUPT: the store at \S+ is damaged: .* no CURRENT file/) });
    expect(existsSync(join(h.dataDir, 'store', 'CURRENT'))).toBe(false);
    const help = await tlogwatch(['check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: tlogwatch check/);
  });
});

describe('tlogwatch check --only NAME --from N --to N', () => {
  /** Flips the last byte of entry `index`'s stored value (its body's), as a disk fault would. */
  const flipBody = async (h: Harness, index: number) => {
    const k = entryKey(await h.store.logId('sim'), index);
    const v = Buffer.from(await h.store.entryDb.get(k));
    v[v.length - 1]! ^= 1;
    await h.store.entryDb.put(k, v);
  };
  const keysOf = async (h: Harness, index: number) => {
    const id = await h.store.logId('sim');
    return impliedKeys(await h.store.entryDb.get(entryKey(id, index)), 'sim', id, BigInt(index), true);
  };
  const NOT_CHECKED = (from: number, to: number) =>
    `\tnot checked: index and UUID keys that name an entry of ${from}..${to} it does not imply: they can be anywhere in the index, which only a check of the whole log reads\n` +
    '\tnot checked: the entries outside the range, their keys and their leaf hashes\n' +
    '\tnot checked: the findings: they belong to the whole store, checked without --only\n';

  it('checks the entries in the range: damage outside it passes, inside it fails, saying which', async () => {
    h = await mirrored('tiles', 700, 'cli-check-range');
    const range = ['check', '--data-dir', h.dataDir, '--only', 'sim', '--from', '300', '--to', '399'];
    const id = await h.store.logId('sim');
    // Outside the range: a body, a leaf hash, an index key and a UUID key.
    await flipBody(h, 7);
    await h.store.db.put(nodeKey(id, 0, 0, 42n), new Uint8Array(32));
    await h.store.db.del((await keysOf(h, 650)).indexKeys[0]!);
    await h.store.db.del((await keysOf(h, 10)).uuid);
    const keys = (await Promise.all(Array.from({ length: 100 }, (_, i) => keysOf(h!, 300 + i)))).reduce((sum, k) => sum + k.indexKeys.length, 0);
    await h.store.close();
    expect((await tlogwatch(['check', '--data-dir', h.dataDir])).code).toBe(1);
    const r = await tlogwatch(range);
    expect(r).toMatchObject({ code: 0, stderr: 'entries 300..399 of sim consistent, as far as checked (what was not is listed)\n' });
    expect(r.stdout).toBe(
      `ok\tsim\tentries 300..399, 100 entries, ${keys} index keys, 100 leaf hashes re-hashed from bodies, 1 node from its children, ` +
        'root of the verified checkpoint (size 700) rebuilt from their bodies and the stored hashes beside them, root of the verified checkpoint (size 700) rebuilt from the stored tree\n' +
        NOT_CHECKED(300, 399),
    );
    const j = await tlogwatch([...range, '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({
      log: 'sim',
      ok: true,
      range: { from: '300', to: '399' },
      entries: 100,
      indexKeys: keys,
      bodiesHashedTo: 'checkpoint',
      roots: [{ tree: 0, from: '300', to: '399', against: 'verified checkpoint', size: '700' }],
      tree: { leaves: 100, nodes: 1, uncovered: 0 },
      verifiedSize: '700',
      problems: [],
      more: 0,
      skipped: NOT_CHECKED(300, 399).split('\n').filter(Boolean).map((l) => l.replace('\tnot checked: ', '')),
    });

    // Inside it: a body.
    const store = await Store.open(h.storeDir);
    h.store = store;
    await flipBody(h, 350);
    await store.close();
    const bad = await tlogwatch(range);
    expect(bad).toMatchObject({ code: 1, stderr: 'entries 300..399 of sim have problems\n' });
    expect(bad.stdout.split('\n')[0]).toMatch(/^FAILED\tsim\tentries 300\.\.399, 100 entries, .*, bodies hashed towards the verified checkpoint \(size 700\), verified checkpoint size 700$/);
    expect(bad.stdout).toContain('\tentry 350: no UUID key\n');
    expect(bad.stdout).toMatch(/\tentries 300\.\.399: their bodies, with the stored hashes beside them, give root [0-9a-f]{64} for size 700, the verified checkpoint says [0-9a-f]{64}\n/);
    expect(bad.stdout).toMatch(/\tentry 350: body hashes to [0-9a-f]{64}, the stored tree has [0-9a-f]{64}\n/);
    // The entries next to it do not: its leaf hash, which a range from 351 reads beside it, is intact.
    expect((await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'sim', '--from', '351', '--to', '399'])).code).toBe(0);
  });

  it('a range that is all the log holds is the whole check of the log', async () => {
    h = await mirrored('tiles', 300, 'cli-check-range-all');
    await h.store.close();
    const only = await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'sim']);
    const all = await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'sim', '--from', '0', '--to', '299']);
    expect(all.code).toBe(0);
    expect(all.stdout).toBe(only.stdout.replace('ok\tsim\t', 'ok\tsim\tentries 0..299, ') + '\tnot checked: the findings: they belong to the whole store, checked without --only\n');
    // --from alone runs to the last entry held, --to alone from the first.
    expect((await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'sim', '--from', '0'])).stdout).toBe(all.stdout);
    expect((await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'sim', '--from', '250'])).stdout).toMatch(/^ok\tsim\tentries 250\.\.299, 50 entries/);
    expect((await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'sim', '--to', '9'])).stdout).toMatch(/^ok\tsim\tentries 0\.\.9, 10 entries/);
  });

  it("Rekor v1: a range across trees rebuilds each tree's root, a retired one its final checkpoint's", async () => {
    h = await mirrored('v1', 600, 'cli-check-range-v1', 3);
    await flipBody(h, 500);
    await h.store.close();
    const r = await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'sim', '--from', '150', '--to', '450']);
    expect(r.code).toBe(0);
    // Each retired tree by the ID the log and /api/v1/log give it, not by its sequence in the store.
    const [t0, t1] = h.sim.log.shards.map((s) => s.treeID);
    expect(r.stdout.split('\n')[0]).toContain(
      `entries 150..199: root of the final checkpoint of tree ${t0} (size 200) rebuilt from their bodies and the stored hashes beside them, ` +
        `entries 200..399: root of the final checkpoint of tree ${t1} (size 200) rebuilt from their bodies and the stored hashes beside them, ` +
        'entries 400..450: root of the verified checkpoint (size 200) rebuilt from their bodies and the stored hashes beside them',
    );
    expect(r.stdout).toContain('\tnot checked: whether each retired tree holds every entry (the entries of all of them counted); their final roots are rebuilt\n');
    expect((await tlogwatch(['check', '--data-dir', h.dataDir, '--only', 'sim', '--from', '450', '--to', '550'])).code).toBe(1);
  });

  it('exit 2: an index that is not one, no --only, --from after --to, a range the store does not hold', async () => {
    h = await mirrored('tiles', 300, 'cli-check-range-usage', undefined, undefined, 100n);
    // A log the store names and holds no state of (its first commit never came).
    await h.store.logId('empty');
    await h.store.close();
    const check = (...args: string[]) => tlogwatch(['check', '--data-dir', h!.dataDir, ...args]);
    const usage = 'usage: tlogwatch check [--config FILE] [--data-dir DIR] [--only NAME [--from N] [--to N]] [--json]';
    expect(await check('--only', 'sim', '--from', 'x')).toMatchObject({ code: 2, stdout: '', stderr: 'tlogwatch check: --from must be a log index (0, 1, 2, …), got "x"\n' });
    expect(await check('--only', 'sim', '--to', '1.5')).toMatchObject({ code: 2, stderr: 'tlogwatch check: --to must be a log index (0, 1, 2, …), got "1.5"\n' });
    expect(await check('--only', 'sim', '--to', '007')).toMatchObject({ code: 2, stderr: 'tlogwatch check: --to must be a log index (0, 1, 2, …), got "007"\n' });
    expect(await check('--only', 'sim', '--to', '18446744073709551616')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--to must be a log index/) });
    expect(await check('--from', '150')).toMatchObject({ code: 2, stdout: '', stderr: `tlogwatch check: --from and --to are indexes of one log: give it with --only NAME\n${usage}\n` });
    expect(await check('--only', 'sim', '--from', '200', '--to', '150')).toMatchObject({ code: 2, stderr: 'tlogwatch check: --from 200 is after --to 150\n' });
    // The mirror started at 100: the store holds 100..299.
    expect(await check('--only', 'sim', '--from', '99')).toMatchObject({ code: 2, stdout: '', stderr: 'tlogwatch check: the store holds entries 100..299 of sim; --from 99 is not one of them\n' });
    expect(await check('--only', 'sim', '--to', '300')).toMatchObject({ code: 2, stderr: 'tlogwatch check: the store holds entries 100..299 of sim; --to 300 is not one of them\n' });
    expect(await check('--only', 'rekor', '--from', '100')).toMatchObject({ code: 2, stderr: 'tlogwatch check: no log named rekor in the store (it holds empty, sim)\n' });
    expect(await check('--only', 'empty', '--to', '0')).toMatchObject({ code: 2, stderr: 'tlogwatch check: the store holds no state of empty: check it without --from and --to\n' });
    // Left of the start, the start's verified frontier: a range from it rebuilds the root.
    expect(await check('--only', 'sim', '--from', '100', '--to', '150')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok\tsim\tentries 100\.\.150, 51 entries/) });
    // Twelve CLI processes in a row: ~1 s each on a loaded CI machine, so more than the default 30 s.
  }, 90_000);
});
