/** `tlogwatch search --digest sha256:HEX | --identity SAN | --repository URI [--server URL] [--json]`: asks a running tlogwatch. */
import { parseArgs } from 'node:util';
import { describeError } from '../errors.ts';
import { USER_AGENT } from '../version.ts';

export async function searchCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        digest: { type: 'string' },
        identity: { type: 'string' },
        repository: { type: 'string' },
        issuer: { type: 'string' },
        server: { type: 'string', default: process.env['TLOGWATCH_SERVER'] ?? 'http://127.0.0.1:8080' },
        limit: { type: 'string', default: '50' },
        json: { type: 'boolean' },
      },
    }));
  } catch (e) {
    process.stderr.write(`tlogwatch search: ${describeError(e)}\n`);
    return 2;
  }
  const q = new URLSearchParams();
  for (const k of ['digest', 'identity', 'repository', 'issuer'] as const) if (values[k]) q.set(k, values[k]);
  if ([...q.keys()].length === 0) {
    process.stderr.write('usage: tlogwatch search --digest sha256:HEX | --identity SAN | --repository URI | --issuer URL [--server URL] [--json]\n');
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
      const when = typeof e['integratedTime'] === 'number' ? new Date(e['integratedTime'] * 1000).toISOString() : '-';
      process.stdout.write(`${String(e['log'])}#${String(e['index'])}\t${when}\t${String(e['kind'])}\t${signer?.san ?? signer?.fingerprint ?? ''}\t${String(e['uuid'])}\n`);
    }
    if (entries.length === 0) process.stderr.write('no entries found\n');
  }
  return entries.length > 0 ? 0 : 1;
}
