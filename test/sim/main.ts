/**
 * `npm run sim -- --api v1|tiles --entries N --port P --out DIR [--seed S] [--rate R] [--shards K]
 *   [--witnesses K] [--mldsa-witnesses K] [--prefix /api/v2] [--inject FILE.jsonl] [--fault NAME[@INDEX]]... [--workers W]`
 * Prints exactly `ready http://127.0.0.1:P` on stdout once serving (DESIGN.md "Simulator"); everything
 * else (progress, fault firings) goes to stderr. Misbehaviour faults arm after the first checkpoint is
 * served, so a mirror first verifies an honest state and then meets the attack.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseFault } from './faults.ts';
import { startSimulator } from './index.ts';
import { parseInjectFile } from './inject.ts';

function count(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new Error(`${flag} must be a non-negative number, got ${JSON.stringify(v)}`);
  return Number(v);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    strict: true,
    options: {
      api: { type: 'string', default: 'tiles' },
      entries: { type: 'string' },
      port: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      rate: { type: 'string' },
      shards: { type: 'string' },
      witnesses: { type: 'string' },
      'mldsa-witnesses': { type: 'string' },
      prefix: { type: 'string' },
      inject: { type: 'string' },
      fault: { type: 'string', multiple: true, default: [] },
      workers: { type: 'string' },
    },
  });
  if (values.api !== 'v1' && values.api !== 'tiles') throw new Error('--api must be v1 or tiles');
  if (!values.out) throw new Error('--out DIR is required');
  const started = performance.now();
  const workers = values.workers === undefined ? undefined : count(values.workers, '--workers', 0);
  const sim = await startSimulator({
    api: values.api,
    entries: Math.floor(count(values.entries, '--entries', 1000)),
    port: count(values.port, '--port', 0),
    out: values.out,
    seed: values.seed,
    rate: count(values.rate, '--rate', 0),
    shards: Math.max(1, Math.floor(count(values.shards, '--shards', 1))),
    witnesses: Math.floor(count(values.witnesses, '--witnesses', 0)),
    mldsaWitnesses: Math.floor(count(values['mldsa-witnesses'], '--mldsa-witnesses', 0)),
    ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
    ...(values.inject !== undefined ? { inject: parseInjectFile(readFileSync(values.inject, 'utf8'), values.inject) } : {}),
    ...(workers !== undefined ? { workers } : {}),
    faults: values.fault.map(parseFault),
    armAfterFirstCheckpoint: true,
  });
  process.stderr.write(`sim: built ${sim.log.size} entries in ${((performance.now() - started) / 1000).toFixed(1)} s; trusted root ${sim.trustedRootPath}, manifest ${sim.manifestPath}\n`);
  process.stdout.write(`ready ${sim.url}\n`);
  const stop = () => void sim.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`sim: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
