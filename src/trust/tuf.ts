/**
 * Trust material from disk or from the Sigstore public-good TUF repository (@sigstore/tuf: its embedded
 * root for the default mirror, metadata cached under a directory we choose). The I/O edge of trust/;
 * parsing stays pure in trusted-root.ts. Offline, TUF fails fast and the error says what to do instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TlogwatchError } from '../errors.ts';
import { parseSigningConfig, withSigningConfig, type SigningConfig } from './signing-config.ts';
import { parseTrustedRoot, verifyLogUrlsWithoutCredentials, type TrustedRoot } from './trusted-root.ts';

export interface TufOptions {
  /** Directory for TUF metadata and targets. */
  cachePath: string;
  /** Budget for the whole refresh, not per request. */
  timeoutMs?: number;
  /** Another TUF repository (tests, staging); needs `rootPath` unless @sigstore/tuf embeds its root. */
  mirrorURL?: string;
  rootPath?: string;
  /**
   * Take the metadata and targets in the cache without asking the repository, as long as TUF finds the
   * cached timestamp unexpired (and asks the repository when it is not): for starting while it is down.
   */
  forceCache?: boolean;
}

/** Sigstore public-good TUF repository (@sigstore/tuf embeds its first root). */
export const PUBLIC_GOOD_TUF = 'https://tuf-repo-cdn.sigstore.dev';

const HINT = 'offline or air-gapped, pass --trusted-root FILE with a trusted_root.json';

/**
 * Where @sigstore/tuf keeps a repository's root.json (its client.ts: `<cachePath>/<encoded host+path>/`).
 * Its first root is copied there from `rootPath` only while none is there.
 */
function cachedRootPath(cachePath: string, mirrorURL: string): string {
  const url = new URL(mirrorURL);
  return join(cachePath, encodeURIComponent(url.host + url.pathname.replace(/\/$/, '')), 'root.json');
}

/**
 * The TUF root to start from, checked before the TUF client copies it into its cache: a copy that is not
 * a root (a truncated download, Sigstore's trusted_root.json given instead) would stay there, trusted as
 * given, and every later start would fail on it, however the file were corrected.
 */
function checkTufRootFile(path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TlogwatchError('TRUST_UNAVAILABLE', `cannot read the TUF root (tufRoot) ${path}: ${e instanceof Error ? e.message : String(e)}`, { kind: 'fatal', cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new TlogwatchError('TRUST_MALFORMED', `the TUF root (tufRoot) ${path} is not JSON`, { kind: 'fatal' });
  }
  const signed = typeof json === 'object' && json !== null && 'signed' in json ? json.signed : undefined;
  const type = typeof signed === 'object' && signed !== null && '_type' in signed ? signed._type : undefined;
  if (type !== 'root' || !('signatures' in (json as object)) || !Array.isArray((json as { signatures: unknown }).signatures)) {
    throw new TlogwatchError('TRUST_MALFORMED', `the TUF root (tufRoot) ${path} is not TUF root metadata ({"signed": {"_type": "root", …}, "signatures": […]}): give the repository's root.json, not a Sigstore trusted_root.json`, { kind: 'fatal' });
  }
}

/** Fetches a TUF target's bytes (verified by the TUF client) within the time budget. */
async function tufTarget(name: string, o: TufOptions): Promise<string> {
  const timeoutMs = o.timeoutMs ?? 8000;
  // `https://tuf-repo-cdn.sigstore.dev/` is the same repository as without the slash (tufRootRequired says
  // so), but the TUF client would look for a built-in root under the URL as written, and fetch targets
  // from `…//targets/`: without the slash it finds both.
  const mirrorURL = o.mirrorURL?.replace(/\/+$/, '');
  if (o.rootPath && !existsSync(cachedRootPath(o.cachePath, mirrorURL ?? PUBLIC_GOOD_TUF))) checkTufRootFile(o.rootPath);
  let timer: NodeJS.Timeout | undefined;
  try {
    const fetch = (async () => {
      // Loaded only here: a daemon given --trusted-root, or one whose logs are configured, never needs the
      // TUF client and its HTTP stack (with nodemailer, also loaded on demand, ~8 MB of resident memory at start).
      const { initTUF } = await import('@sigstore/tuf');
      const tuf = await initTUF({
        cachePath: o.cachePath,
        retry: 0,
        timeout: timeoutMs,
        ...(mirrorURL ? { mirrorURL } : {}),
        ...(o.rootPath ? { rootPath: o.rootPath } : {}),
        ...(o.forceCache ? { forceCache: true } : {}),
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
    throw new TlogwatchError('TRUST_UNAVAILABLE', `cannot get ${name} from the TUF repository ${mirrorURL ?? PUBLIC_GOOD_TUF} (${why}); ${HINT}`, { kind: 'fatal', cause: e });
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

/** Which TUF repository: public-good's unless a mirror (and the root to start from) is configured. */
export type TufRepository = Pick<TufOptions, 'mirrorURL' | 'rootPath'>;

/** Whether a mirror needs a root to start from: only the public-good repository's first root is built in. */
export function tufRootRequired(mirrorURL: string | undefined): boolean {
  return mirrorURL !== undefined && mirrorURL.replace(/\/+$/, '') !== PUBLIC_GOOD_TUF;
}

/** A trust document from disk, parsed; errors name the file. */
function loadTrustFile<T>(path: string, what: string, parse: (json: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TlogwatchError('TRUST_UNAVAILABLE', `cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`, { kind: 'fatal', cause: e });
  }
  const json = parseJson(text, path);
  try {
    return parse(json);
  } catch (e) {
    if (e instanceof TlogwatchError && e.code === 'TRUST_MALFORMED') throw new TlogwatchError('TRUST_MALFORMED', `${path}: ${e.message}`, { kind: 'fatal', cause: e });
    throw e;
  }
}

/** `--trusted-root FILE`. */
export function loadTrustedRootFile(path: string): TrustedRoot {
  return loadTrustFile(path, 'trusted root', parseTrustedRoot);
}

/** A Sigstore signing_config.json (v0.2) from disk. */
export function loadSigningConfigFile(path: string): SigningConfig {
  return loadTrustFile(path, 'signing config', parseSigningConfig);
}

/** The Sigstore public-good signing config, verified by TUF. */
export async function fetchSigningConfigViaTuf(o: TufOptions): Promise<SigningConfig> {
  return parseSigningConfig(parseJson(await tufTarget('signing_config.v0.2.json', o), 'TUF target signing_config.v0.2.json'));
}

/**
 * The daemon's trust: the trusted root (the file, else public-good via TUF) with each log's API taken from
 * signing configs, the only trust material that says which API a log speaks (rekor.md §3.6): the files
 * given, else, in TUF mode, the public-good one. A TUF signing config that cannot be had is a warning,
 * not a failure: each log then keeps the type its key suggests. A root with credentials in a log's URL is
 * refused (trusted-root.ts verifyLogUrlsWithoutCredentials).
 */
export async function resolveTrust(o: {
  trustedRoot?: string;
  signingConfigs: readonly string[];
  cachePath: string;
  tuf?: TufRepository;
  onWarning?: (message: string) => void;
  /**
   * With the repository unreachable, take the trust material TUF verified at an earlier run from the cache,
   * while its metadata has not expired (a warning says so). For `serve`'s start: a restart during an outage
   * of the repository's CDN must not keep the mirror down, and the refresh job asks the repository again.
   */
  cachedWhenUnavailable?: boolean;
}): Promise<TrustedRoot> {
  let tuf: TufOptions = { cachePath: o.cachePath, ...o.tuf };
  const root = o.trustedRoot
    ? loadTrustedRootFile(o.trustedRoot)
    : await fetchTrustedRootViaTuf(tuf).catch(async (e: unknown) => {
        if (!o.cachedWhenUnavailable || !(e instanceof TlogwatchError && e.code === 'TRUST_UNAVAILABLE')) throw e;
        const cached = await fetchTrustedRootViaTuf({ ...tuf, forceCache: true }).catch(() => {
          throw e;
        });
        o.onWarning?.(`${e.message.replace(/; offline or air-gapped.*$/, '')}; starting from the trusted root TUF verified earlier, cached in ${o.cachePath} (its metadata has not expired); jobs.trustedRootRefresh asks the repository again`);
        // The signing config comes from the same cache: the repository would not answer for it either.
        tuf = { ...tuf, forceCache: true };
        return cached;
      });
  verifyLogUrlsWithoutCredentials(root);
  const configs = o.signingConfigs.map(loadSigningConfigFile);
  if (configs.length === 0 && !o.trustedRoot) {
    try {
      configs.push(await fetchSigningConfigViaTuf(tuf));
    } catch (e) {
      o.onWarning?.(`no signing config from TUF, so each log's API is guessed from its key: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return configs.length ? withSigningConfig(root, configs) : root;
}

/** The file when one is given, else via TUF: public-good's repository, or the one `tuf` names. */
export async function resolveTrustedRoot(file: string | undefined, cachePath: string, tuf: TufRepository = {}): Promise<TrustedRoot> {
  return file ? loadTrustedRootFile(file) : fetchTrustedRootViaTuf({ cachePath, ...tuf });
}
