/**
 * Credentials in a URL (RFC 3986 §3.2.1 userinfo, `https://user:password@host/`). tlogwatch shows the URLs it
 * is configured with (a log's in GET /v1/logs, unauthenticated, and in /readyz, log lines, error messages and
 * the store's log state), so the configuration refuses them (config/schema.ts). A log state stored before
 * that may still hold one: it is shown without.
 */

/** Whether `url` parses and names a user or a password. */
export function hasCredentials(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const u = new URL(url);
  return u.username !== '' || u.password !== '';
}

/** `url` with its userinfo dropped (anything else as given); a string that is no URL is returned as it is. */
export function withoutCredentials(url: string): string {
  if (!hasCredentials(url)) return url;
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.href;
}
