/**
 * The request body limit (`api.maxBodyBytes`), enforced as a handler reads the body, never ahead of it.
 *
 * Hono's `bodyLimit` reads a body sent without Content-Length (chunked) to its end, up to the limit, into
 * memory before the route runs: every POST, to any path, by anyone, was buffered whole before the route
 * checked the admin token, and before the rate limit, which ran after it. Here a declared length over the
 * limit is refused at once, and a chunked body is counted as it streams to the handler that reads it; a
 * handler that answers without reading it (a 401, a 404) never holds it, and Node discards the rest
 * (bounded by the server's requestTimeout, api/http-server.ts).
 */
import type { MiddlewareHandler } from 'hono';
import { apiError } from './errors.ts';

const tooLarge = (max: number) => apiError('API_PAYLOAD_TOO_LARGE', `request body exceeds ${max} bytes`);

export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const raw = c.req.raw;
    if (!raw.body) return next();
    const declared = raw.headers.get('content-length');
    // With a Content-Length (and no Transfer-Encoding, which would override it, RFC 9112 §6.3), Node's
    // parser delivers no more than it says.
    if (declared !== null && !raw.headers.has('transfer-encoding')) {
      if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
      return next();
    }
    let size = 0;
    const counted = raw.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          size += chunk.byteLength;
          // The reader (c.req.text(), .json()) rejects with this error, which onError maps to 413.
          if (size > maxBytes) controller.error(tooLarge(maxBytes));
          else controller.enqueue(chunk);
        },
      }),
    );
    c.req.raw = new Request(raw, { body: counted, duplex: 'half' });
    await next();
  };
}
