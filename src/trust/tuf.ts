/**
 * Trust material from disk or from the Sigstore public-good TUF repository (@sigstore/tuf: its embedded
 * root for the default mirror, metadata cached under a directory we choose). The I/O edge of trust/;
 * parsing stays pure in trusted-root.ts. Offline, TUF fails fast and the error says what to do instead.
 */
import { readFileSync } from 'node:fs';
import { initTUF } from '@sigstore/tuf';
import { TlogwatchError } from '../errors.ts';
import { parseTrustedRoot, type TrustedRoot } from './trusted-root.ts';

export interface TufOptions {
  /** Directory for TUF metadata and targets. */
  cachePath: string;
  /** Budget for the whole refresh, not per request. */
  timeoutMs?: number;
  /** Another TUF repository (tests, staging); needs `rootPath` unless @sigstore/tuf embeds its root. */
  mirrorURL?: string;
  rootPath?: string;
}

const HINT = 'offline or air-gapped, pass --trusted-root FILE with a trusted_root.json';

/** Fetches a TUF target's bytes (verified by the TUF client) within the time budget. */
async function tufTarget(name: string, o: TufOptions): Promise<string> {
  const timeoutMs = o.timeoutMs ?? 8000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const fetch = (async () => {
      const tuf = await initTUF({
        cachePath: o.cachePath,
        retry: 0,
        timeout: timeoutMs,
        ...(o.mirrorURL ? { mirrorURL: o.mirrorURL } : {}),
        ...(o.rootPath ? { rootPath: o.rootPath } : {}),
      });
      return tuf.getTarget(name);
    })();
    // The TUF client's timeout is per request; a stalled chain of requests must not stall startup.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return await Promise.race([fetch, deadline]);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new TlogwatchError('TRUST_UNAVAILABLE', `cannot get ${name} from the Sigstore TUF repository (${why}); ${HINT}`, { kind: 'fatal', cause: e });
  } finally {
    clearTimeout(timer);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new TlogwatchError('TRUST_MALFORMED', `${what} is not JSON`, { kind: 'fatal' });
  }
}

export async function fetchTrustedRootViaTuf(o: TufOptions): Promise<TrustedRoot> {
  return parseTrustedRoot(parseJson(await tufTarget('trusted_root.json', o), 'TUF target trusted_root.json'));
}

/** The Sigstore public-good trusted root (default mirror, embedded TUF root). */
export function fetchPublicGoodTrustedRoot(cachePath: string, timeoutMs = 8000): Promise<TrustedRoot> {
  return fetchTrustedRootViaTuf({ cachePath, timeoutMs });
}

/** `--trusted-root FILE`. */
export function loadTrustedRootFile(path: string): TrustedRoot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TlogwatchError('TRUST_UNAVAILABLE', `cannot read trusted root ${path}: ${e instanceof Error ? e.message : String(e)}`, { kind: 'fatal', cause: e });
  }
  const json = parseJson(text, path);
  try {
    return parseTrustedRoot(json);
  } catch (e) {
    if (e instanceof TlogwatchError && e.code === 'TRUST_MALFORMED') throw new TlogwatchError('TRUST_MALFORMED', `${path}: ${e.message}`, { kind: 'fatal', cause: e });
    throw e;
  }
}

/** The file when one is given, else public-good via TUF. */
export async function resolveTrustedRoot(file: string | undefined, cachePath: string): Promise<TrustedRoot> {
  return file ? loadTrustedRootFile(file) : fetchPublicGoodTrustedRoot(cachePath);
}
