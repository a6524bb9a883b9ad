import type { Readable } from 'node:stream';

/**
 * The URL a simulator (or the bench's API server) prints as `ready URL` on `stdout` once it serves
 * (DESIGN.md, the simulator's contract). Rejects if the stream ends first: the process exited without serving.
 */
export function readyUrl(stdout: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    stdout.once('end', () => reject(new Error(`the process ended without printing "ready URL"; it printed: ${out.slice(0, 500)}`)));
  });
}
