/**
 * The Sigstore public-good trusted root via TUF (@sigstore/tuf, with its embedded root and a disk cache).
 * This is I/O at the edge; parsing stays in trusted-root.ts. Offline, it fails fast and says what to do.
 */
import { readFileSync } from 'node:fs';
import { getTrustedRoot } from '@sigstore/tuf';
import { TlogwatchError } from '../errors.ts';
import { parseTrustedRoot, type TrustedRoot } from './trusted-root.ts';

export async function fetchPublicGoodTrustedRoot(cachePath: string, timeoutMs = 8000): Promise<TrustedRoot> {
  try {
    const root = await Promise.race([
      getTrustedRoot({ cachePath, retry: 0, timeout: timeoutMs }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs + 1000).unref()),
    ]);
    return parseTrustedRoot(JSON.parse(JSON.stringify(root)) as unknown);
  } catch (e) {
    if (e instanceof TlogwatchError) throw e;
    throw new TlogwatchError(
      'TRUST_UNAVAILABLE',
      `cannot fetch the Sigstore public-good trusted root via TUF (${(e as Error).message}); offline or air-gapped, pass --trusted-root FILE with a trusted_root.json`,
      { kind: 'fatal', cause: e },
    );
  }
}

export function loadTrustedRootFile(path: string): TrustedRoot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TlogwatchError('TRUST_UNAVAILABLE', `cannot read trusted root ${path}: ${(e as Error).message}`, { kind: 'fatal', cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new TlogwatchError('TRUST_MALFORMED', `${path} is not JSON`, { kind: 'fatal' });
  }
  return parseTrustedRoot(json);
}

export async function resolveTrustedRoot(file: string | undefined, cachePath: string): Promise<TrustedRoot> {
  return file ? loadTrustedRootFile(file) : fetchPublicGoodTrustedRoot(cachePath);
}
