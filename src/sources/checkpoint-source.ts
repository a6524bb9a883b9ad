/**
 * Fetching a log's checkpoint from somewhere other than the log (config `checkpointSources`), so that the
 * mirror's view can be compared with what others see (c2sp.md §5, "Monitor recipe" step 2):
 *
 * - `tlogwatch`: another tlogwatch's latest verified checkpoint, `GET /v1/logs/{log}/checkpoints?limit=1`;
 * - `distributor`: transparency-dev/distributor `api/http.go`, `GET /distributor/v0/logs/<logID>/checkpoint.<N>`,
 *   a checkpoint with at least N witness cosignatures, logID = hex SHA-256("o:" ‖ origin)
 *   (transparency-dev/formats `log/identifier.go`);
 * - `rekor`: a Rekor v1 API (rekor.md §1: `GET /api/v1/log`, its `signedTreeHead` and its `inactiveShards`'
 *   final ones): the log itself through
 *   another network path, or another mirror's Rekor-compatible API (tlogwatch serves one);
 * - `checkpoint`: a URL serving a signed note, with `{log}`, `{origin}` or `{originSha256}` filled in.
 *
 * Only fetching and unwrapping here; whether the log signed the note, and whether it agrees with the
 * mirror, is judged by the caller (monitor/checkpoint-sources.ts). `undefined` = the source has no
 * checkpoint of this log (404, or an empty history).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CheckpointSourceConfigT } from '../config/schema.ts';
import { utf8 } from '../util/bytes.ts';
import type { HttpClient } from './http.ts';
import { MAX_CHECKPOINT_BYTES } from './tiles.ts';

/**
 * A signed note as large as the log's own checkpoint may be (sources/tiles.ts: signed-note's 16 signatures
 * of nearly 5 kB each must be accepted, and a witness's or distributor's copy carries the most of them),
 * with room for the JSON around it (a peer's page of one checkpoint, a Rekor LogInfo).
 */
const MAX_BYTES = MAX_CHECKPOINT_BYTES + 64 * 1024;

const PeerPage = z.object({ checkpoints: z.array(z.object({ note: z.string() }).loose()) }).loose();
const RekorLogInfo = z.object({ signedTreeHead: z.string(), inactiveShards: z.array(z.object({ signedTreeHead: z.string() }).loose()).max(1000).optional() }).loose();

/** What a source serves for a log: its checkpoint of the current tree, and for Rekor v1 the final ones of retired shards. */
export interface SourceNotes {
  note: string | undefined;
  /** `rekor`: the inactive shards' signed tree heads, as the LogInfo lists them. */
  retired: readonly string[];
}

export interface SourceLog {
  /** The log's name in this mirror (a peer tlogwatch names it the same way: both default to the trusted root's). */
  name: string;
  /** The checkpoint origin line of the log's current tree (Rekor v1: `<signer> - <treeID>`). */
  origin: string;
}

const hexSha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const trimmed = (url: string) => url.replace(/\/+$/, '');

/** Where `source` serves `log`'s checkpoint. */
export function checkpointUrl(source: Pick<CheckpointSourceConfigT, 'kind' | 'url' | 'witnesses'>, log: SourceLog): string {
  switch (source.kind) {
    case 'tlogwatch':
      return `${trimmed(source.url)}/v1/logs/${encodeURIComponent(log.name)}/checkpoints?limit=1`;
    case 'rekor':
      return `${trimmed(source.url)}/api/v1/log`;
    case 'distributor':
      return `${trimmed(source.url)}/distributor/v0/logs/${hexSha256(`o:${log.origin}`)}/checkpoint.${source.witnesses ?? 1}`;
    case 'checkpoint':
      return source.url.replaceAll('{log}', encodeURIComponent(log.name)).replaceAll('{origin}', encodeURIComponent(log.origin)).replaceAll('{originSha256}', hexSha256(log.origin));
  }
}

/** The checkpoints `source` serves for `log`, as text, or undefined when it has none (404). Throws a transient TlogwatchError when they cannot be fetched. */
export async function fetchSourceCheckpoint(client: HttpClient, source: Pick<CheckpointSourceConfigT, 'kind' | 'url' | 'witnesses' | 'token'>, log: SourceLog, signal?: AbortSignal): Promise<SourceNotes | undefined> {
  return client.request(checkpointUrl(source, log), {
    endpoint: 'checkpoint-source',
    maxBytes: MAX_BYTES,
    ...(source.token !== undefined ? { headers: { authorization: `Bearer ${source.token}` } } : {}),
    ...(signal ? { signal } : {}),
    // Fatal decoding: a note is UTF-8 (c2sp.md §1.1), and a lossy decode would change what was signed. A
    // note is taken as its bytes, a byte-order mark in front included (utf8.decode), as the log's own
    // checkpoint is (sources/tiles.ts): dropping it would accept bytes the log did not sign. JSON may
    // start with one (RFC 8259 §8.1), which TextDecoder drops. A body that does not parse is a transient
    // fault (retried, then reported), like any source's.
    parse: (body): SourceNotes => {
      if (source.kind === 'tlogwatch' || source.kind === 'rekor') {
        const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
        if (source.kind === 'tlogwatch') return { note: PeerPage.parse(json).checkpoints[0]?.note, retired: [] };
        const info = RekorLogInfo.parse(json);
        return { note: info.signedTreeHead, retired: (info.inactiveShards ?? []).map((s) => s.signedTreeHead) };
      }
      return { note: utf8.decode(body), retired: [] };
    },
  });
}
