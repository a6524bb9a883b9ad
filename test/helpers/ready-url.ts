import type { Readable } from 'node:stream';

/**
 * The URL a simulator (or the bench's API server) prints as `ready URL` on `stdout` once it serves
 * (DESIGN.md, the simulator's contract), or `tlogwatch serve` as `listening URL` (`word`). Rejects if the
 * stream ends first: the process exited without serving.
 */
export function readyUrl(stdout: Readable, word: 'ready' | 'listening' = 'ready'): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = new RegExp(`${word} (\\S+)`).exec(out);
      if (m) resolve(m[1]!);
    });
    stdout.once('end', () => reject(new Error(`the process ended without printing "${word} URL"; it printed: ${out.slice(0, 500)}`)));
  });
}
