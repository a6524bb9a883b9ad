/**
 * `npm run sim -- --api v1|tiles --entries N --port P --out DIR [--seed S] [--rate R] [--shards K]
 *   [--witnesses K] [--mldsa-witnesses K] [--prefix /api/v2] [--inject FILE.jsonl] [--fault NAME[@INDEX]]... [--workers W]`
 * (`--help` lists them: usage.ts). Prints exactly `ready http://127.0.0.1:P` on stdout once serving
 * (DESIGN.md "Simulator"); everything else (progress, fault firings) goes to stderr. Misbehaviour faults arm
 * after the first checkpoint is served, so a mirror first verifies an honest state and then meets the attack.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseFault, type FaultSpec } from './faults.ts';
import { startSimulator } from './index.ts';
import { parseInjectFile } from './inject.ts';
import { whenLauncherExits } from '../../src/util/launcher.ts';
import { OPTIONS, UsageError, usage, usageErrorText } from './usage.ts';

function count(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`${flag} must be a non-negative number, got ${JSON.stringify(v)}`);
  return Number(v);
}

function fault(s: string): FaultSpec {
  try {
    return parseFault(s);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ strict: true, options: OPTIONS });
  if (values.help) {
    process.stdout.write(usage());
    return;
  }
  if (values.api !== 'v1' && values.api !== 'tiles') throw new UsageError(`--api must be v1 or tiles, got ${JSON.stringify(values.api)}`);
  if (!values.out) throw new UsageError('--out DIR is required');
  const faults = values.fault.map(fault);
  const port = count(values.port, '--port', 0);
  if (!Number.isInteger(port) || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  // `npm run sim` runs it under `sh -c`, which does not pass a SIGTERM sent to npm on: without this the
  // simulator outlived its launcher, serving on its port with nobody to stop it (src/util/launcher.ts).
  let stop: () => void = () => process.exit(0);
  whenLauncherExits(() => {
    process.stderr.write('sim: the process that started the simulator has ended; stopping\n');
    stop();
  });
  const started = performance.now();
  const workers = values.workers === undefined ? undefined : count(values.workers, '--workers', 0);
  const sim = await startSimulator({
    api: values.api,
    entries: Math.floor(count(values.entries, '--entries', 1000)),
    port,
    out: values.out,
    seed: values.seed,
    rate: count(values.rate, '--rate', 0),
    shards: Math.max(1, Math.floor(count(values.shards, '--shards', 1))),
    witnesses: Math.floor(count(values.witnesses, '--witnesses', 0)),
    mldsaWitnesses: Math.floor(count(values['mldsa-witnesses'], '--mldsa-witnesses', 0)),
    ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
    ...(values.inject !== undefined ? { inject: parseInjectFile(readFileSync(values.inject, 'utf8'), values.inject) } : {}),
    ...(workers !== undefined ? { workers } : {}),
    faults,
    armAfterFirstCheckpoint: true,
  });
  process.stderr.write(`sim: built ${sim.log.size} entries in ${((performance.now() - started) / 1000).toFixed(1)} s; trusted root ${sim.trustedRootPath}, manifest ${sim.manifestPath}\n`);
  process.stdout.write(`ready ${sim.url}\n`);
  let stopping = false;
  stop = () => {
    if (stopping) return;
    stopping = true;
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${usageErrorText(e) ?? `sim: ${e instanceof Error ? e.message : String(e)}`}\n`);
  process.exit(2);
});
