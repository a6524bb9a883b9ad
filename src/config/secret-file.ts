/**
 * A secret given as a file: `api.adminTokenFile`, `logs[].headerFiles`. A file suits container secrets
 * (Docker's /run/secrets, a Kubernetes secret volume): unlike an environment variable its contents are not
 * shown by `docker inspect`, and unlike a flag not by `ps`. Read when the command starts; errors name the
 * key and the file, never the contents.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { TlogwatchError } from '../errors.ts';

/**
 * The contents of `file`, the one trailing newline (LF or CRLF) that editors, `echo` and
 * `kubectl create secret --from-file` leave dropped, checked with `schema`. `key` names the setting in errors
 * (`api.adminTokenFile`); `what` says what the file should hold (`token`, `header value`).
 */
export function readSecretFile(key: string, file: string, schema: z.ZodType<string>, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TlogwatchError('CONFIG_INVALID', `${key} ${file}: cannot read it: ${e instanceof Error ? e.message : String(e)}`, { kind: 'fatal', cause: e });
  }
  // A secret written without a newline is taken as it is; a second one stays, and the schema says so.
  const secret = text.replace(/\r?\n$/, '');
  const r = schema.safeParse(secret);
  if (!r.success) throw new TlogwatchError('CONFIG_INVALID', `${key} ${file}: not a usable ${what}: ${r.error.issues[0]?.message ?? 'invalid'}`, { kind: 'fatal' });
  return secret;
}
