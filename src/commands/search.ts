/**
 * `tlogwatch search --digest sha256:HEX | --identity SAN | --repository URI | --owner URI | --issuer URL |
 * --build-signer URI | --fingerprint HEX [--since T] [--until T] [--limit N | --all] [--server URL] [--json]`: asks a
 * running tlogwatch (GET /v1/search), following its cursor up to the limit asked for. Exit 0 when entries
 * were found, 1 when none, 2 on usage or server errors.
 */
import { parseArgs } from 'node:util';
import { forTerminal } from '../util/terminal.ts';
import { describeError } from '../errors.ts';
import { flagErrorText } from './flag-error.ts';
import { USER_AGENT } from '../version.ts';
import { SELECTORS } from '../api/selectors.ts';
import { sanSummary } from '../entries/subject-alt-name.ts';
import type { Signer } from '../entries/types.ts';

/** What the command prints unless told otherwise (--limit, --all): the API's default page. */
const DEFAULT_LIMIT = 50;
/** The API's largest page (GET /v1/search `limit`, api/params.ts). */
const PAGE_MAX = 1000;

const USAGE = `usage: tlogwatch search --digest sha256:HEX | --identity SAN[*] | --repository URI | --owner URI | --issuer URL
                        | --build-signer URI | --fingerprint HEX [--since T] [--until T] [--limit N | --all] [--server URL] [--json]

Asks a running tlogwatch (GET /v1/search; --server, or TLOGWATCH_SERVER, default http://127.0.0.1:8080) and
prints one line per entry, newest first: log#index, integrated time (for Rekor v2, when the mirror saw it,
marked "(seen)"), kind, signer, uuid. Selectors given together must all match. URIs are matched as signed,
scheme included (https://github.com/acme/api, not github.com/acme/api). --since/--until alone list
the entries of that window; T is Unix seconds or an ISO-8601 date. --limit N prints at most N entries
(default ${DEFAULT_LIMIT}), --all every one, following the API's pages (at most ${PAGE_MAX} entries each); when
more match than were printed, a line on stderr says so. --json prints the API's response, with the
entries of every page read and the cursor to the rest ("next", null when there is none).
Exit 0 when entries were found, 1 when none, 2 on usage or server errors.
`;

/** Command-line flag → /v1/search parameter: the selectors (api/selectors.ts) and the time window. */
export const QUERY_PARAMS: ReadonlyMap<string, string> = new Map([...SELECTORS.map((s) => [s.flag, s.param] as const), ['since', 'since'], ['until', 'until']]);

const iso = (t: unknown) => (typeof t === 'number' ? new Date(t * 1000).toISOString() : undefined);

interface Page {
  entries: Array<Record<string, unknown>>;
  next: string | null;
}

/** One page of GET /v1/search, or the line that says why there is none. */
async function fetchPage(server: string, q: URLSearchParams): Promise<Page | { error: string }> {
  let res: Response;
  try {
    res = await fetch(`${server.replace(/\/+$/, '')}/v1/search?${q.toString()}`, { headers: { 'user-agent': USER_AGENT }, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    return { error: `cannot reach ${server} (${describeError(e)}); is tlogwatch serve running? Set --server.` };
  }
  const body = (await res.json().catch(() => ({}))) as { entries?: unknown; next?: unknown; error?: { message?: unknown } };
  // tlogwatch's errors are JSON with a message; anything else answered (a 404 page, a proxy's 502) is
  // most likely not a tlogwatch at that address.
  if (!res.ok) return { error: typeof body.error?.message === 'string' ? `${res.status} ${forTerminal(body.error.message)}` : `${server} answered ${res.status} ${forTerminal(res.statusText)} to GET /v1/search, not as tlogwatch does; is --server the address tlogwatch serve listens on?` };
  if (!Array.isArray(body.entries) || !(body.next === undefined || body.next === null || typeof body.next === 'string')) return { error: `${server} answered with no search results` };
  return { entries: body.entries as Array<Record<string, unknown>>, next: typeof body.next === 'string' ? body.next : null };
}

/** One entry as a line: tab-separated columns, each the server's value made safe for the terminal on its own. */
function line(e: Record<string, unknown>): string {
  const signer = e['signer'] as Signer | undefined;
  // Rekor v2 entries carry no integrated time: the time the mirror first saw them stands in, marked so.
  const seen = iso(e['observedAt']);
  const when = iso(e['integratedTime']) ?? (seen ? `${seen} (seen)` : '-');
  // A certificate naming several identities shows its primary and how many more (the one searched for may be among them).
  const who = signer ? sanSummary(signer) : undefined;
  const cols = [`${String(e['log'])}#${String(e['index'])}`, when, String(e['kind']), who ?? String(signer?.fingerprint ?? ''), String(e['uuid'])];
  return `${cols.map(forTerminal).join('\t')}\n`;
}

/** The selectors whose values are URIs, compared whole: scheme included (the case of a host or a github.com owner and repository aside, api/selectors.ts). */
const URI_PARAMS: ReadonlySet<string> = new Set(['repository', 'owner', 'buildSigner', 'issuer']);

/**
 * When nothing matched a URI selector given without its scheme (`--repository github.com/acme/api`, as a
 * rule's watch may say it, where it means https://): the search compares the whole URI, so say which
 * one was probably meant, rather than a bare "no entries found".
 */
function schemeHint(q: URLSearchParams): string {
  for (const [param, v] of q) {
    if (!URI_PARAMS.has(param) || v.includes('://') || !/^[a-z0-9-]+(\.[a-z0-9-]+)+(\/|$)/i.test(v)) continue;
    const flag = [...QUERY_PARAMS].find(([, p]) => p === param)?.[0] ?? param;
    return `; --${flag} is compared with the whole URI, scheme included: did you mean https://${forTerminal(v)}?`;
  }
  return '';
}

/** --limit N (a whole number from 1), --all, or neither: how many entries to print at most; a string says what is wrong. */
function limitOf(limit: string | undefined, all: boolean | undefined): number | string {
  if (all) return limit === undefined ? Infinity : '--limit and --all: give one or the other';
  if (limit === undefined) return DEFAULT_LIMIT;
  return /^[1-9]\d{0,15}$/.test(limit) && Number.isSafeInteger(Number(limit)) ? Number(limit) : `--limit must be a whole number from 1, got ${JSON.stringify(limit)}`;
}

export async function searchCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries([...QUERY_PARAMS.keys()].map((flag) => [flag, { type: 'string' } as const])),
        server: { type: 'string', default: process.env['TLOGWATCH_SERVER'] ?? 'http://127.0.0.1:8080' },
        limit: { type: 'string' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`${flagErrorText('search', e)}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const q = new URLSearchParams();
  let selectors = 0;
  for (const [flag, param] of QUERY_PARAMS) {
    const v = (values as Record<string, unknown>)[flag];
    if (typeof v !== 'string' || v === '') continue;
    q.set(param, v);
    if (param !== 'since' && param !== 'until') selectors++;
  }
  if ([...q.keys()].length === 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  // fetch would refuse `127.0.0.1:8080` as a URL, which then reads as a server that cannot be reached.
  if (!/^https?:\/\/[^/]/i.test(values.server)) {
    process.stderr.write(`tlogwatch search: --server ${forTerminal(values.server)}: an http:// or https:// URL, e.g. http://127.0.0.1:8080\n`);
    return 2;
  }
  const limit = limitOf(values.limit, values.all);
  if (typeof limit === 'string') {
    process.stderr.write(`tlogwatch search: ${limit}\n`);
    return 2;
  }
  // Page after page until the limit or the last page: the API stops at PAGE_MAX entries a page, and
  // with more than one selector a page holds only the entries the others let through.
  const kept: Array<Record<string, unknown>> = [];
  let printed = 0;
  let next: string | null = null;
  do {
    q.set('limit', String(Math.min(PAGE_MAX, limit - printed)));
    if (next !== null) q.set('cursor', next);
    const page = await fetchPage(values.server, q);
    if ('error' in page) {
      process.stderr.write(`tlogwatch search: ${page.error}\n`);
      return 2;
    }
    if (values.json) kept.push(...page.entries);
    else for (const e of page.entries) process.stdout.write(line(e));
    printed += page.entries.length;
    next = page.next;
  } while (next !== null && printed < limit);
  if (values.json) process.stdout.write(`${JSON.stringify({ entries: kept, next })}\n`);
  else if (printed === 0) process.stderr.write(`no entries found${schemeHint(q)}\n`);
  // Cut off by the limit, not by the end of the results: say so, and how to see the rest. Unless the
  // reader cut it shorter still (`| head`): a write to a closed pipe fails a tick later, and cli.ts then
  // ends the command, so that gets its turn first.
  await new Promise((resolve) => setImmediate(resolve));
  if (next !== null) process.stderr.write(`tlogwatch search: stopped at ${printed} ${printed === 1 ? 'entry' : 'entries'} (--limit ${limit}); more ${selectors > 1 ? 'may match' : 'match'}: raise --limit or pass --all\n`);
  return printed > 0 ? 0 : 1;
}
