/** The package version, for the User-Agent and /v1 responses. Kept in sync with package.json by a test. */
export const VERSION = '0.1.0';
export const USER_AGENT = `tlogwatch/${VERSION} (+https://github.com/tlogwatch/tlogwatch)`;
