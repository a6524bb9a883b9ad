/**
 * What the simulator puts on the wire, seen with node:http (which, unlike fetch, asks for gzip only when
 * told to): HEAD answers as GET does without a body, and a full entry bundle sent plain (built from its
 * body on demand rather than sent from the copy gzipped ahead) is the same bytes and meets the same
 * transient faults.
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entriesPath, tilePath } from '../../../src/merkle/tiles.ts';
import { parseEntryBundle } from '../../../src/sources/tiles.ts';
import type { Simulator } from '../../sim/index.ts';
import { sim, stopAll } from './helpers.ts';

afterAll(stopAll);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The connection closed before the body was complete. */
  cut: boolean;
}

/** One request over loopback, gzip asked for only when `gzip` is set. */
function call(url: string, method: 'GET' | 'HEAD', gzip = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: gzip ? { 'accept-encoding': 'gzip' } : {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const done = (cut: boolean) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cut });
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(!res.complete));
      res.on('aborted', () => done(true));
      res.on('error', () => done(true));
    });
    req.on('error', reject);
    req.end();
  });
}

const WIRE_HEADERS = ['content-type', 'content-length', 'content-encoding'] as const;
const wireHeaders = (a: Answer) => Object.fromEntries(WIRE_HEADERS.map((h) => [h, a.headers[h]]));

describe('the simulator on the wire', () => {
  let s: Simulator;
  beforeAll(async () => {
    s = await sim({ api: 'tiles', entries: 600, seed: 'wire' });
  });

  it('answers HEAD with the status and headers GET gets, and no body', async () => {
    const paths = ['checkpoint', entriesPath(0n), entriesPath(2n, 88), tilePath(0, 1n), tilePath(0, 2n, 88), 'tile/entries/x999'];
    for (const path of paths) {
      for (const gzip of [false, true]) {
        const get = await call(`${s.url}/${path}`, 'GET', gzip);
        const head = await call(`${s.url}/${path}`, 'HEAD', gzip);
        expect([head.status, wireHeaders(head)], `${path} gzip ${gzip}`).toEqual([get.status, wireHeaders(get)]);
        expect(head.body.length).toBe(0);
        expect(get.body.length).toBe(Number(get.headers['content-length']));
      }
    }
    // The bundle is gzipped when asked for (the copy made ahead), the hash tile never is.
    expect((await call(`${s.url}/${entriesPath(0n)}`, 'HEAD', true)).headers['content-encoding']).toBe('gzip');
    expect((await call(`${s.url}/${tilePath(0, 1n)}`, 'HEAD', true)).headers['content-encoding']).toBeUndefined();
    expect((await call(`${s.url}/tile/entries/x999`, 'HEAD')).status).toBe(404);
  });

  it('sends a full bundle plain as the same bytes as its gzipped copy, and cuts or garbles it under truncate and garbage', async () => {
    const plain = await call(`${s.url}/${entriesPath(1n)}`, 'GET');
    const gzipped = await call(`${s.url}/${entriesPath(1n)}`, 'GET', true);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(plain.body.equals(gunzipSync(gzipped.body))).toBe(true);
    expect(parseEntryBundle(plain.body)).toHaveLength(256);

    s.faults.enable('truncate', 1);
    const cut = await call(`${s.url}/${entriesPath(1n)}`, 'GET');
    s.faults.disable('truncate');
    expect(cut.cut).toBe(true);
    expect(Number(cut.headers['content-length'])).toBe(plain.body.length);
    expect(cut.body.length).toBe(Math.floor(plain.body.length / 2));
    expect(cut.body.equals(plain.body.subarray(0, cut.body.length))).toBe(true);

    s.faults.enable('garbage', 1);
    const garbled = await call(`${s.url}/${entriesPath(1n)}`, 'GET');
    const garbledGzip = await call(`${s.url}/${entriesPath(1n)}`, 'GET', true);
    s.faults.disable('garbage');
    expect(garbled.status).toBe(200);
    expect(garbled.body.equals(plain.body)).toBe(false);
    // The same garbage either way (gzipped when asked for and long enough to be), never the bundle.
    const garbage = garbledGzip.headers['content-encoding'] === 'gzip' ? gunzipSync(garbledGzip.body) : garbledGzip.body;
    expect(garbage.equals(garbled.body)).toBe(true);
    // Its framing does not hold: a reader takes it for the garbled response it is.
    expect(() => parseEntryBundle(garbled.body)).toThrow(/entry bundle/);
  });
});
