/** Machine facts printed with every benchmark result. */
import { cpus, loadavg, release, totalmem } from 'node:os';

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Linux ${release()}, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`;
}

/** Runs `fn` repeatedly for `ms` after a warm-up and returns operations per second (median of `rounds`). */
export function opsPerSecond(fn: (n: number) => void, batch: number, ms = 400, rounds = 5): number {
  for (let i = 0; i < 3; i++) fn(batch);
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      fn(batch);
      ops += batch;
    }
    rates.push(ops / ((performance.now() - start) / 1000));
  }
  return rates.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
