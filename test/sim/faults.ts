/**
 * Faults the simulator injects (`--fault NAME[@PARAM]`, several allowed; switchable at runtime through
 * `sim.faults`), for tests of a hostile or flaky log. Every firing is logged (stderr by default).
 *
 * Misbehaviour (a mirror must halt and keep the evidence):
 *   fork@I           from index I later readers see another history: same size, another signed root
 *   rewrite@I        entry I's body changes (its tile-0 hash with it); signed checkpoints stay honest
 *   tile-mismatch@I  entry I's body in the bundle / v1 API disagrees with the level-0 tile and the UUID
 *   drop@I           entry I is omitted from retrieve responses, GET by index and entry bundles
 *   bad-sig          checkpoint signatures are corrupted
 *   bad-cosig[@K]    witness cosignatures on checkpoints are corrupted (@K: only the Kth witness's, from 1)
 *   wrong-key        checkpoints are signed by a key the trusted root does not list (same name)
 *   shrink           checkpoints claim a size 10% below the published one
 *   stale            the checkpoint stops advancing while entries keep being appended
 * Transient (fire on every Nth request, deterministic, so a client that retries makes progress):
 *   http-429@N, http-503@N   status with an HTML body; every other firing carries Retry-After: 1 (N=3)
 *   truncate@N               the body is cut in half and the connection dropped (N=3)
 *   garbage@N                the body is replaced by invalid JSON / bytes (N=3)
 *   slow@MS[/N]              MS milliseconds of latency on every Nth response (MS=2000, N=2)
 */
export const MISBEHAVIOUR = ['fork', 'rewrite', 'tile-mismatch', 'drop', 'bad-sig', 'bad-cosig', 'wrong-key', 'shrink', 'stale'] as const;
export const TRANSIENT = ['http-429', 'http-503', 'slow', 'truncate', 'garbage'] as const;
export const FAULT_NAMES = [...MISBEHAVIOUR, ...TRANSIENT] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

const INDEXED: readonly FaultName[] = ['fork', 'rewrite', 'tile-mismatch', 'drop'];

export interface FaultSpec {
  name: FaultName;
  /** The index (fork, rewrite, tile-mismatch, drop), the witness (bad-cosig), N of every-Nth, or slow's milliseconds. */
  param?: number;
  /** slow only: every Nth response. */
  every?: number;
}

/** `NAME[@PARAM]` (slow: `slow[@MS[/N]]`). */
export function parseFault(s: string): FaultSpec {
  const m = /^([a-z0-9-]+)(?:@(\d+)(?:\/(\d+))?)?$/.exec(s);
  const name = m?.[1];
  if (!m || !(FAULT_NAMES as readonly string[]).includes(name!)) throw new Error(`unknown fault ${JSON.stringify(s)}: one of ${FAULT_NAMES.join(', ')}, as NAME[@INDEX|@N] (slow@MS[/N])`);
  if (m[3] !== undefined && name !== 'slow') throw new Error(`fault ${s}: only slow takes /N`);
  if (INDEXED.includes(name as FaultName) && m[2] === undefined) throw new Error(`fault ${name} needs @INDEX`);
  return { name: name as FaultName, ...(m[2] !== undefined ? { param: Number(m[2]) } : {}), ...(m[3] !== undefined ? { every: Math.max(1, Number(m[3])) } : {}) };
}

export class Faults {
  private readonly active = new Map<FaultName, FaultSpec>();
  private readonly counters = new Map<FaultName, number>();
  private readonly log: (msg: string) => void;
  /** Called when a fault is switched on or off (the log drops cached views). */
  onChange: () => void = () => undefined;

  constructor(specs: readonly FaultSpec[] = [], log: (msg: string) => void = (m) => process.stderr.write(`sim: ${m}\n`)) {
    this.log = log;
    for (const s of specs) this.active.set(s.name, s);
  }

  enable(name: FaultName, param?: number, every?: number): void {
    this.active.set(name, { name, ...(param !== undefined ? { param } : {}), ...(every !== undefined ? { every } : {}) });
    this.counters.delete(name);
    this.onChange();
  }
  disable(name: FaultName): void {
    this.active.delete(name);
    this.onChange();
  }
  clear(): void {
    this.active.clear();
    this.onChange();
  }
  get(name: FaultName): FaultSpec | undefined {
    return this.active.get(name);
  }
  has(name: FaultName): boolean {
    return this.active.has(name);
  }
  list(): FaultSpec[] {
    return [...this.active.values()];
  }
  /** The index an indexed fault targets, when it is on. */
  at(name: FaultName): number | undefined {
    return this.active.get(name)?.param;
  }

  /** For every-Nth faults: counts this request and says whether it is the one to fail. */
  tick(name: FaultName): boolean {
    const f = this.active.get(name);
    if (!f) return false;
    const n = (this.counters.get(name) ?? 0) + 1;
    this.counters.set(name, n);
    const every = name === 'slow' ? (f.every ?? 2) : (f.param ?? 3);
    return n % Math.max(1, every) === 0;
  }

  /** How many requests an every-Nth fault has counted. */
  count(name: FaultName): number {
    return this.counters.get(name) ?? 0;
  }

  fired(name: FaultName, detail: string): void {
    this.log(`fault ${name} fired: ${detail}`);
  }
}
