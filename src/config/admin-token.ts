/**
 * The admin bearer token `serve` checks: `api.adminToken` (the file's text, `${NAME}` from the
 * environment), or the contents of `api.adminTokenFile` (config/secret-file.ts). Errors name the key and
 * the file, never the token.
 */
import { readSecretFile } from './secret-file.ts';
import { AdminToken, type Config } from './schema.ts';

export function adminTokenOf(api: Pick<Config['api'], 'adminToken' | 'adminTokenFile'>): string | undefined {
  if (api.adminToken !== undefined || api.adminTokenFile === undefined) return api.adminToken;
  return readSecretFile('api.adminTokenFile', api.adminTokenFile, AdminToken, 'token');
}
