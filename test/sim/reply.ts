/** What a route returns; server.ts writes it (applying transient faults). Errors use Rekor's `{code, message}`. */
import type { IncomingMessage } from 'node:http';

export interface Reply {
  status: number;
  /**
   * A function when building the body costs a read the reply may not need (a bundle gzipped ahead). It runs
   * when the reply is sent, after any `slow` delay, so it sees the body faults as they are then.
   */
  body: Buffer | string | (() => Buffer);
  type?: string;
  headers?: Record<string, string>;
  /** `body` gzipped ahead (a full entry bundle): sent as it is to a client that accepts gzip. */
  gzipped?: Buffer;
  /**
   * false: never gzipped (32-byte hashes do not compress; a static tile store serves them as they are, and
   * compressing 8 KB per tile request was a third of the simulator's CPU while a mirror caught up).
   */
  compressible?: boolean;
}

export const jsonReply = (v: unknown, status = 200): Reply => ({ status, body: JSON.stringify(v), type: 'application/json' });
export const errorReply = (status: number, message: string): Reply => jsonReply({ code: status, message }, status);

export class RequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The request body as JSON (unknown), at most `max` bytes; 400 when it is not JSON. */
export async function readJson(req: IncomingMessage, max = 1 << 20): Promise<unknown> {
  let n = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new RequestError(413, `request body over ${max} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new RequestError(400, 'request body is not JSON');
  }
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
