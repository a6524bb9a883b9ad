/**
 * The admin bearer token `serve` checks: `api.adminToken` (the file's text, `${NAME}` from the
 * environment), or the contents of `api.adminTokenFile`. A file suits container secrets (Docker's
 * /run/secrets, a Kubernetes secret volume): unlike an environment variable its contents are not shown by
 * `docker inspect`. Errors name the key and the file, never the token.
 */
import { readFileSync } from 'node:fs';
import { TlogwatchError } from '../errors.ts';
import { AdminToken, type Config } from './schema.ts';

export function adminTokenOf(api: Pick<Config['api'], 'adminToken' | 'adminTokenFile'>): string | undefined {
  if (api.adminToken !== undefined || api.adminTokenFile === undefined) return api.adminToken;
  const file = api.adminTokenFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TlogwatchError('CONFIG_INVALID', `api.adminTokenFile ${file}: cannot read it: ${e instanceof Error ? e.message : String(e)}`, { kind: 'fatal', cause: e });
  }
  // Editors and `echo` end a file with a newline; a secret written without one is taken as it is.
  const token = text.replace(/\r?\n$/, '');
  const r = AdminToken.safeParse(token);
  if (!r.success) throw new TlogwatchError('CONFIG_INVALID', `api.adminTokenFile ${file}: not a usable token: ${r.error.issues[0]?.message ?? 'invalid'}`, { kind: 'fatal' });
  return token;
}
