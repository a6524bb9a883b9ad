/**
 * Two tlogwatch daemons that compare notes (`checkpointSources` of kind `tlogwatch`, each the other's
 * peer) catch a log that shows them different histories. The log is two simulators with the same seed,
 * so the same key, and the same origin: the second serves another history from index 150 (its `fork`
 * fault) to daemon B only. Each daemon's own mirror is consistent, so neither halts; each raises one
 * critical split-view finding whose evidence is the two checkpoints, both signed by the log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { verifyLogCheckpoint } from '../../src/trust/log-checkpoint.ts';
import { parseTrustedRoot } from '../../src/trust/trusted-root.ts';
import { readJson } from '../helpers/realdata.ts';
import { freePort } from '../ops/tools.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { stopAll } from '../helpers/teardown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-gossip-'));
let honest: Simulator;
let forked: Simulator;
let a: Daemon;
let b: Daemon;

beforeAll(async () => {
  honest = await startSimulator({ api: 'tiles', entries: 300, seed: 'gossip', out: join(tmp, 'honest'), log: () => {} });
  forked = await startSimulator({ api: 'tiles', entries: 300, seed: 'gossip', out: join(tmp, 'forked'), log: () => {} });
  // The same log to anyone who checks signatures: same key (same seed), and now the same origin.
  forked.log.name = honest.log.name;
  forked.faults.enable('fork', 150);
  const [portA, portB] = [await freePort(), await freePort()];
  const config = (name: string, port: number, url: string, peerPort: number) =>
    parseConfig(
      `dataDir: ${join(tmp, name)}\nlisten: 127.0.0.1:${port}\ntrustedRoot: ${honest.trustedRootPath}\nlogs:\n  - { name: rekor, type: tiles, url: '${url}', origin: '${honest.log.name}', start: 0, pollInterval: 200ms, requestsPerMinute: 0 }\ncheckpointSources:\n  - { name: peer, kind: tlogwatch, url: 'http://127.0.0.1:${peerPort}', interval: 1h }\n`,
      `${name}.yaml`,
      {},
    );
  a = await startDaemon(config('a', portA, honest.url, portB), createLogger({ level: 'silent' }));
  b = await startDaemon(config('b', portB, forked.url, portA), createLogger({ level: 'silent' }));
}, 60_000);
afterAll(() => stopAll({ daemons: [a, b], sims: [honest, forked], dir: tmp }));

interface LogView {
  state: string;
  verifiedSize: number | null;
  checkpointSources?: Array<{ source: string; result: string; finding?: string }>;
}
interface Finding {
  id: string;
  severity: string;
  message: string;
  evidence: Record<string, string>;
}
const view = async (d: Daemon) => ((await (await fetch(`${d.url}/v1/logs`)).json()) as LogView[])[0];
const verifiedNote = async (d: Daemon) => ((await (await fetch(`${d.url}/v1/logs/rekor/checkpoints?limit=1`)).json()) as { checkpoints: Array<{ note: string }> }).checkpoints[0]!.note;

describe('two daemons that are each other\'s checkpoint source', () => {
  it('each catch the log showing them different histories, and neither halts', { timeout: 60_000 }, async () => {
    for (let i = 0; i < 300; i++) {
      const [va, vb] = [await view(a), await view(b)];
      if ([va, vb].every((v) => v?.checkpointSources?.[0]?.result === 'split_view')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const tlog = parseTrustedRoot(readJson(honest.trustedRootPath)).tlogs[0]!;
    const [noteA, noteB] = [await verifiedNote(a), await verifiedNote(b)];
    // Both verified a 300-entry tree the log signed, with different roots.
    const [treeA, treeB] = [verifyLogCheckpoint(noteA, tlog), verifyLogCheckpoint(noteB, tlog)];
    expect([treeA.size, treeB.size]).toEqual([300n, 300n]);
    expect(treeA.rootHash).not.toEqual(treeB.rootHash);

    for (const [d, mine, theirs] of [
      [a, noteA, noteB],
      [b, noteB, noteA],
    ] as const) {
      const v = (await view(d))!;
      expect(v).toMatchObject({ state: 'following', verifiedSize: 300, checkpointSources: [{ source: 'peer', result: 'split_view' }] });
      const findings = ((await (await fetch(`${d.url}/v1/findings?rule=log-integrity`)).json()) as { findings: Finding[] }).findings;
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ id: v.checkpointSources![0]!.finding, severity: 'critical', evidence: { source: 'peer', sourceCheckpoint: theirs, mirrorCheckpoint: mine, size: '300' } });
      expect(findings[0]!.message).toMatch(/^log rekor: checkpoint source peer shows a tree head of size 300, signed by the log, whose root is not in the history the log published to this mirror/);
    }
  });
});
