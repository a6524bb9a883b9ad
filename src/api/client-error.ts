/**
 * The answer to a request Node's HTTP parser refuses before any handler runs (the server's 'clientError'):
 * a malformed request line or header (400), headers not received within `headersTimeoutMs` or a request
 * not within `requestTimeoutMs` (408), a header block over the 16 KiB limit (431). Node's own answer is a
 * bare status line with no body and none of the API's security headers; this one is the API's JSON error
 * `{"error":{"code","message"}}` with them (DESIGN.md "Stable contracts": all errors are JSON).
 *
 * Written as Node writes its own (lib/_http_server.js `socketOnError`): only when the socket can still be
 * written and no response has started on it (a pipelined request can fail while the previous answer is
 * being sent; bytes of ours inside it would corrupt it for the client), then the socket is destroyed,
 * since the parser cannot find where a next request would begin. https://nodejs.org/api/http.html#event-clienterror
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { SECURITY_HEADERS } from './security-headers.ts';

interface Refusal {
  status: number;
  reason: string;
  code: string;
  message: string;
}

/**
 * What a parser error is answered with. The llhttp reason is a fixed phrase ("Invalid method encountered"),
 * never the client's bytes (those are in `rawPacket`, not echoed), so it is safe to show.
 */
export function refusalOf(e: NodeJS.ErrnoException & { reason?: unknown }): Refusal {
  switch (e.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', code: 'API_HEADERS_TOO_LARGE', message: 'the request headers are larger than 16 KiB' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'Payload Too Large', code: 'API_PAYLOAD_TOO_LARGE', message: 'the chunk extensions are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', code: 'API_REQUEST_TIMEOUT', message: 'the request was not received in time' };
    default: {
      const why = typeof e.reason === 'string' && e.reason ? e.reason : 'the request could not be parsed';
      return { status: 400, reason: 'Bad Request', code: 'API_BAD_REQUEST', message: `malformed request: ${why}` };
    }
  }
}

/** The whole HTTP/1.1 answer for a refusal: the connection closes after it. */
export function formatRefusal(r: Refusal): string {
  const body = JSON.stringify({ error: { code: r.code, message: r.message } });
  const headers = [
    `HTTP/1.1 ${r.status} ${r.reason}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...SECURITY_HEADERS.map(([k, v]) => `${k}: ${v}`),
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

/** The server's 'clientError' listener (installed in api/http-server.ts). */
export function onClientError(e: Error, socket: Duplex): void {
  // Node's own test (socketOnError): a response in flight on this socket whose head has gone out.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  // A reset peer reads nothing (Node's documented handler skips it too).
  const gone = (e as NodeJS.ErrnoException).code === 'ECONNRESET';
  if (!gone && socket.writable && !inFlight?.headersSent) socket.write(formatRefusal(refusalOf(e)));
  socket.destroy();
}
