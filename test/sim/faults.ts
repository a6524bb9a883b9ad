/**
 * Faults the simulator injects (`--fault NAME[@PARAM]`, several allowed; switchable at runtime through
 * `sim.faults`), for tests of a hostile or flaky log. Every firing is logged (stderr by default).
 * Misbehaviour faults are ones a mirror must halt on and keep the evidence of; transient ones fire on every
 * Nth request, deterministically, so a client that retries makes progress. FAULT_HELP says what each does;
 * `npm run sim -- --help` prints it.
 */
export const MISBEHAVIOUR = ['fork', 'rewrite', 'tile-mismatch', 'drop', 'bad-sig', 'bad-cosig', 'wrong-key', 'shrink', 'stale'] as const;
export const TRANSIENT = ['http-429', 'http-503', 'slow', 'truncate', 'garbage'] as const;
export const FAULT_NAMES = [...MISBEHAVIOUR, ...TRANSIENT] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** Each fault's form and effect, for --help (a Record: a fault added without its line does not compile). */
export const FAULT_HELP: Record<FaultName, { form: string; effect: string }> = {
  fork: { form: 'fork@I', effect: 'from index I later readers see another history: same size, another validly signed root' },
  rewrite: { form: 'rewrite@I', effect: "entry I's body claims another digest; tile 0 / the UUID follow it; signed roots stay honest" },
  'tile-mismatch': { form: 'tile-mismatch@I', effect: "entry I's body disagrees with tile 0 (tiles) or its UUID (v1)" },
  drop: { form: 'drop@I', effect: 'entry I is missing from its bundle, retrieve responses and GET by index' },
  'bad-sig': { form: 'bad-sig', effect: 'the log signature on checkpoints is corrupted' },
  'bad-cosig': { form: 'bad-cosig[@K]', effect: "the witnesses' cosignatures on checkpoints are corrupted (@K: only the Kth witness's, from 1)" },
  'wrong-key': { form: 'wrong-key', effect: 'checkpoints are signed by a key not in the trusted root (same name)' },
  shrink: { form: 'shrink', effect: 'checkpoints claim 10% fewer entries than published' },
  stale: { form: 'stale', effect: 'the checkpoint stops moving while entries are appended' },
  'http-429': { form: 'http-429[@N]', effect: 'every Nth request (default 3) fails with 429; every other failure has Retry-After: 1' },
  'http-503': { form: 'http-503[@N]', effect: 'every Nth request (default 3) fails with 503; every other failure has Retry-After: 1' },
  slow: { form: 'slow[@MS[/N]]', effect: 'MS ms of latency (default 2000) on every Nth response (default 2)' },
  truncate: { form: 'truncate[@N]', effect: 'every Nth body (default 3) is cut short and the connection dropped' },
  garbage: { form: 'garbage[@N]', effect: 'every Nth body (default 3) is replaced by invalid JSON / bytes' },
};

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
