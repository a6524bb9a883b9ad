/**
 * `npm run sim -- --api v1|tiles --entries N --port P --out DIR [--seed S] [--rate R] [--shards K]
 *   [--witnesses K] [--prefix /api/v2] [--inject FILE.jsonl] [--fault NAME[@INDEX]]...`
 * Prints `ready http://127.0.0.1:P` on stdout once serving (DESIGN.md "Simulator").
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseFault } from './faults.ts';
import type { InjectSpec } from './generate.ts';
import { startSimulator } from './index.ts';

function parseInject(path: string): InjectSpec[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const v = JSON.parse(l) as InjectSpec;
      if (v.at !== 'next' && !(Number.isInteger(v.at) && v.at >= 0)) throw new Error(`${path}:${i + 1}: "at" must be an index or "next"`);
      if (!v.cert && !v.key) throw new Error(`${path}:${i + 1}: give "cert" or "key"`);
      return v;
    });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      api: { type: 'string', default: 'tiles' },
      entries: { type: 'string', default: '1000' },
      port: { type: 'string', default: '0' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      rate: { type: 'string', default: '0' },
      shards: { type: 'string', default: '1' },
      witnesses: { type: 'string', default: '0' },
      prefix: { type: 'string' },
      inject: { type: 'string' },
      fault: { type: 'string', multiple: true, default: [] },
    },
  });
  if (values.api !== 'v1' && values.api !== 'tiles') throw new Error('--api must be v1 or tiles');
  if (!values.out) throw new Error('--out DIR is required');
  const started = performance.now();
  const sim = await startSimulator({
    api: values.api,
    entries: Number(values.entries),
    port: Number(values.port),
    out: values.out,
    seed: values.seed,
    rate: Number(values.rate),
    shards: Number(values.shards),
    witnesses: Number(values.witnesses),
    ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
    ...(values.inject ? { inject: parseInject(values.inject) } : {}),
    faults: values.fault.map(parseFault),
    armAfterFirstCheckpoint: true,
  });
  process.stderr.write(`sim: built ${sim.log.size} entries in ${((performance.now() - started) / 1000).toFixed(1)} s; trusted root ${sim.trustedRootPath}\n`);
  process.stdout.write(`ready ${sim.url}\n`);
  const stop = () => void sim.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`sim: ${(e as Error).message}\n`);
  process.exit(2);
});
