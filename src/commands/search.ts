/**
 * `tlogwatch search --digest sha256:HEX | --identity SAN | --repository URI | --owner URI | --issuer URL |
 * --build-signer URI | --fingerprint HEX [--since T] [--until T] [--limit N] [--server URL] [--json]`: asks a
 * running tlogwatch (GET /v1/search). Exit 0 when entries were found, 1 when none, 2 on usage or server errors.
 */
import { parseArgs } from 'node:util';
import { forTerminal } from '../util/terminal.ts';
import { describeError } from '../errors.ts';
import { USER_AGENT } from '../version.ts';
import { SELECTORS } from '../api/selectors.ts';

const USAGE = `usage: tlogwatch search --digest sha256:HEX | --identity SAN[*] | --repository URI | --owner URI | --issuer URL
                        | --build-signer URI | --fingerprint HEX [--since T] [--until T] [--limit N] [--server URL] [--json]

Asks a running tlogwatch (GET /v1/search; --server, or TLOGWATCH_SERVER, default http://127.0.0.1:8080) and
prints one line per entry, newest first: log#index, integrated time (for Rekor v2, when the mirror saw it,
marked "(seen)"), kind, signer, uuid. Selectors given together must all match. --since/--until alone list
the entries of that window; T is Unix seconds or an ISO-8601 date. --json prints the API's response.
Exit 0 when entries were found, 1 when none, 2 on usage or server errors.
`;

/** Command-line flag → /v1/search parameter: the selectors (api/selectors.ts) and the time window. */
export const QUERY_PARAMS: ReadonlyMap<string, string> = new Map([...SELECTORS.map((s) => [s.flag, s.param] as const), ['since', 'since'], ['until', 'until']]);

const iso = (t: unknown) => (typeof t === 'number' ? new Date(t * 1000).toISOString() : undefined);

export async function searchCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries([...QUERY_PARAMS.keys()].map((flag) => [flag, { type: 'string' } as const])),
        server: { type: 'string', default: process.env['TLOGWATCH_SERVER'] ?? 'http://127.0.0.1:8080' },
        limit: { type: 'string', default: '50' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`tlogwatch search: ${describeError(e)}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const q = new URLSearchParams();
  for (const [flag, param] of QUERY_PARAMS) {
    const v = (values as Record<string, unknown>)[flag];
    if (typeof v === 'string' && v !== '') q.set(param, v);
  }
  if ([...q.keys()].length === 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  q.set('limit', values.limit);
  let res: Response;
  try {
    res = await fetch(`${values.server.replace(/\/+$/, '')}/v1/search?${q.toString()}`, { headers: { 'user-agent': USER_AGENT }, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    process.stderr.write(`tlogwatch search: cannot reach ${values.server} (${describeError(e)}); is tlogwatch serve running? Set --server.\n`);
    return 2;
  }
  const body = (await res.json().catch(() => ({}))) as { entries?: Array<Record<string, unknown>>; error?: { message: string } };
  if (!res.ok) {
    process.stderr.write(`tlogwatch search: ${res.status} ${body.error?.message ?? ''}\n`);
    return 2;
  }
  const entries = body.entries ?? [];
  if (values.json) process.stdout.write(`${JSON.stringify(body)}\n`);
  else {
    for (const e of entries) {
      const signer = e['signer'] as { san?: string; fingerprint?: string } | undefined;
      // Rekor v2 entries carry no integrated time: the time the mirror first saw them stands in, marked so.
      const seen = iso(e['observedAt']);
      const when = iso(e['integratedTime']) ?? (seen ? `${seen} (seen)` : '-');
      // Tab-separated columns; each value is the server's, so each is made safe for the terminal on its own.
      const cols = [`${String(e['log'])}#${String(e['index'])}`, when, String(e['kind']), signer?.san ?? signer?.fingerprint ?? '', String(e['uuid'])];
      process.stdout.write(`${cols.map(forTerminal).join('\t')}\n`);
    }
    if (entries.length === 0) process.stderr.write('no entries found\n');
  }
  return entries.length > 0 ? 0 : 1;
}
