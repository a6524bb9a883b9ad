import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';

/** A logger at info writing its lines into `lines`. */
function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination }) };
}

describe('logger', () => {
  it('never writes a configured secret: tokens, webhook secrets, passwords and authorization headers are redacted', () => {
    const { lines, log } = capturedLogger();
    log.info({ adminToken: 'a-secret', source: { name: 'peer', token: 'peer-secret' }, webhook: { secret: 'hmac-secret' }, smtp: { password: 'pw' }, headers: { authorization: 'Bearer x' } }, 'config');
    const out = lines.join('');
    for (const secret of ['a-secret', 'peer-secret', 'hmac-secret', '"pw"', 'Bearer x']) expect(out).not.toContain(secret);
    expect(JSON.parse(out)).toMatchObject({ adminToken: '[redacted]', source: { name: 'peer', token: '[redacted]' }, webhook: { secret: '[redacted]' }, smtp: { password: '[redacted]' }, headers: { authorization: '[redacted]' } });
  });

  it("redacts a log's configured headers, whatever their names, where the logs or the whole config are logged", () => {
    const { lines, log } = capturedLogger();
    const logs = [{ name: 'private', url: 'https://log.internal', headers: { 'X-Api-Key': 'key-s3cret', Authorization: 'Basic czNjcmV0' } }];
    log.info({ logs }, 'logs');
    log.info({ config: { logs } }, 'config');
    const out = lines.join('');
    for (const secret of ['key-s3cret', 'czNjcmV0']) expect(out).not.toContain(secret);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toMatchObject([{ logs: [{ name: 'private', headers: '[redacted]' }] }, { config: { logs: [{ url: 'https://log.internal', headers: '[redacted]' }] } }]);
  });
});
