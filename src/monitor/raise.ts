/**
 * Raising findings outside a mirror batch: a stall, a trust change, a split view that a checkpoint source
 * or a posted bundle or checkpoint shows, the daily digest, a store-integrity problem. (Rule and integrity
 * findings of ingested entries commit with their batch instead: monitor/hooks.ts.)
 *
 * A finding is raised once per ID. One already stored stands as it is: its status, acknowledgement and
 * notifications are kept, so raising reads before it writes. Two raisers of the same ID at once (a
 * checkpoint source's check and a POST showing the same split view) are serialised on that ID, so only
 * the first writes it and queues its notifications. Whatever raised it, a new finding is counted in
 * `tlogwatch_findings_total` (the alert on new high and critical findings reads that) and the notifier
 * is woken.
 */
import { countFindings, type Metrics } from '../metrics.ts';
import { FindingsRepo } from '../store/findings.ts';
import type { BatchOp } from '../store/level.ts';
import type { Store } from '../store/store.ts';
import type { Finding } from './finding.ts';
import type { FindingWriter } from './hooks.ts';

/** A finding as it stands after raising it: `raised` when this call stored it. */
export interface Raised {
  finding: Finding;
  raised: boolean;
}

export interface FindingRaiserOptions {
  store: Store;
  /** The finding's ops and its notifications' outbox rows. */
  write: FindingWriter;
  metrics: Pick<Metrics, 'findings'>;
  /** Called after new findings are stored (the daemon wakes its notifier). */
  onRaised?: (raised: readonly Finding[]) => void;
  /** Settles what the rules configure about a finding before it is stored (the built-in rules' severity, owner, labels). */
  shape?: (f: Finding) => Finding;
}

export class FindingRaiser {
  readonly #o: FindingRaiserOptions;
  readonly #repo: FindingsRepo;
  /** Per finding ID, the raise that holds it (the tail of its queue). */
  readonly #held = new Map<string, Promise<void>>();

  constructor(o: FindingRaiserOptions) {
    this.#o = o;
    this.#repo = new FindingsRepo(o.store);
  }

  /**
   * Each finding as stored (the one already there, or the one given), in order. The new ones are written
   * in one atomic batch with `extra` (what raised them: a posted bundle, say), which is written even when
   * every finding was already known.
   */
  async raise(findings: readonly Finding[], extra: readonly BatchOp[] = []): Promise<Raised[]> {
    return this.#holding(
      findings.map((f) => f.id),
      async () => {
        const out: Raised[] = [];
        const fresh = new Map<string, Finding>();
        for (const given of findings) {
          const f = this.#o.shape ? this.#o.shape(given) : given;
          const known = fresh.get(f.id) ?? (await this.#repo.get(f.id));
          out.push(known ? { finding: known, raised: false } : { finding: f, raised: true });
          if (!known) fresh.set(f.id, f);
        }
        const raised = [...fresh.values()];
        const ops = [...raised.flatMap((f) => this.#o.write(f)), ...extra];
        if (ops.length) await this.#o.store.writeOps(ops);
        if (raised.length === 0) return out;
        countFindings(this.#o.metrics, raised);
        this.#o.onRaised?.(raised);
        return out;
      },
    );
  }

  /** One finding: as stored, and whether this call stored it. */
  async raiseOne(f: Finding): Promise<Raised> {
    return (await this.raise([f]))[0]!;
  }

  /**
   * Runs `fn` once every earlier raise of any of `ids` has finished. Each call queues behind the holders it
   * finds, synchronously, so a call waits only on earlier ones and two calls cannot wait on each other.
   */
  async #holding<T>(ids: readonly string[], fn: () => Promise<T>): Promise<T> {
    const keys = [...new Set(ids)];
    const before = keys.flatMap((k) => this.#held.get(k) ?? []);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    for (const k of keys) this.#held.set(k, mine);
    await Promise.all(before);
    try {
      return await fn();
    } finally {
      release();
      for (const k of keys) if (this.#held.get(k) === mine) this.#held.delete(k);
    }
  }
}
