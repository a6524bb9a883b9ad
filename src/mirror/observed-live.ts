/**
 * Which entries this mirror observed live: appended to the log after a checkpoint the mirror had just
 * seen, and ingested within about a poll interval of it. For those, `observedAt` is close to when the log
 * took the entry, a time the mirror measured rather than one the signer wrote; a key-signed Rekor v2 entry
 * has no other (no integrated time, no Fulcio certificate), and its provenance dates are what the signer
 * chose (monitor/eval/expect.ts entryTime).
 *
 * The reasoning: the round before saw the log's signed size S at time A (LogState.upstream, recorded as the
 * round fetched that checkpoint). An entry with index ≥ S was not in that checkpoint, so an honest log
 * appended it after the checkpoint was made, about A (less whatever cache served it). An entry ingested
 * at `now` was in this round's checkpoint, so the log held it by `now`. Its append time is thus in
 * [A − cache age, now], and `now` is at most `now − A` (plus the cache age) after it. That gap is bounded
 * here by one poll interval plus LIVE_SLACK_SECONDS (a caught-up round's checkpoint fetch, a batch of new
 * entries and their commit take seconds). It assumes the checkpoint served is fresh (Rekor v2 publishes
 * one within seconds of an append); one older than what the mirror already holds (a cache or replica
 * behind) is no observation of the log's present size, and the next round counts nothing live from it
 * (`priorObservation`). Entries reached in a catch-up, a resumed or bootstrapping
 * mirror and a backfill fail the bound or have no prior observation: their observedAt is the catch-up's
 * time, and they are not live.
 */

/** The log's (virtual) size a round saw, and when, in Unix seconds (LogState.upstream as the round began). */
export interface PriorObservation {
  size: bigint;
  at: number;
}

/**
 * What a round can count live entries from: the upstream size and time the round before recorded
 * (`upstream`), unless that size is below `fetched`, the (virtual) size the mirror had already fetched
 * when the round began: then the checkpoint seen was an old one, and entries past it may have been
 * appended long before it was seen.
 */
export function priorObservation(upstream: PriorObservation | undefined, fetched: bigint): PriorObservation | undefined {
  return upstream && upstream.size >= fetched ? { size: upstream.size, at: upstream.at } : undefined;
}

/** Room beyond one poll interval for the round before to finish and this one to fetch and ingest. */
export const LIVE_SLACK_SECONDS = 60;

/**
 * The first virtual index that counts as observed live among entries ingested at `now` (Unix seconds), or
 * undefined when none does: no prior observation, or it is more than a poll interval plus the slack ago.
 */
export function liveFrom(prior: PriorObservation | undefined, now: number, pollIntervalMs: number): bigint | undefined {
  if (!prior) return undefined;
  const gap = now - prior.at;
  return gap >= 0 && gap <= Math.ceil(pollIntervalMs / 1000) + LIVE_SLACK_SECONDS ? prior.size : undefined;
}
