/**
 * `npm run bench`: runs every test/bench/*.bench.ts (or those named on the command line) one after the
 * other and writes BENCHMARKS.md from the markdown sections they print, with the machine and date.
 * Each benchmark measures its own baseline in the same run.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { machine } from './machine.ts';

const only = process.argv.slice(2);
const benches = readdirSync('test/bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
const previous = existsSync('BENCHMARKS.md') ? readFileSync('BENCHMARKS.md', 'utf8') : '';
const sections = new Map<string, string>();
for (const m of previous.matchAll(/^## (.+)\n[\s\S]*?(?=^## |(?![\s\S]))/gm)) sections.set(m[1]!, m[0].trimEnd());
for (const f of benches) {
  process.stderr.write(`bench: ${f}\n`);
  const out = execFileSync(process.execPath, ['--expose-gc', `test/bench/${f}`], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  for (const m of out.matchAll(/^## (.+)\n[\s\S]*?(?=^## |(?![\s\S]))/gm)) sections.set(m[1]!, `${m[0].trimEnd()}\n\n_Measured ${new Date().toISOString().slice(0, 10)}._`);
}
const header = `# Benchmarks

Produced by \`npm run bench\` (test/bench/*.bench.ts); each section carries the machine it ran on and a
baseline measured in the same run. Re-run a single one with \`npm run bench -- merkle\`.
Last run on: ${machine()}.
`;
writeFileSync('BENCHMARKS.md', `${header}\n${[...sections.values()].join('\n\n')}\n`);
process.stderr.write(`bench: wrote BENCHMARKS.md (${sections.size} sections)\n`);
