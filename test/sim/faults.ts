/**
 * Faults the simulator can inject (`--fault NAME[@PARAM]`), for tests of a hostile or flaky log.
 * Misbehaviour: fork@I, rewrite@I, tile-mismatch@I, drop@I, bad-sig, wrong-key, shrink, stale.
 * Transient: http-429, http-503 (@N: every Nth request, default 3; Retry-After on every other one),
 * slow (@MS per response, default 1500), truncate and garbage (@N, default 3).
 * Every firing is logged to stderr.
 */
export const FAULT_NAMES = ['fork', 'rewrite', 'tile-mismatch', 'drop', 'bad-sig', 'wrong-key', 'shrink', 'stale', 'http-429', 'http-503', 'slow', 'truncate', 'garbage'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export interface FaultSpec {
  name: FaultName;
  param?: number;
}

export function parseFault(s: string): FaultSpec {
  const [name, param] = s.split('@') as [string, string | undefined];
  if (!(FAULT_NAMES as readonly string[]).includes(name)) throw new Error(`unknown fault ${JSON.stringify(name)}; one of ${FAULT_NAMES.join(', ')}`);
  if (param !== undefined && !/^\d+$/.test(param)) throw new Error(`fault ${name}: @${param} is not a number`);
  return { name: name as FaultName, ...(param !== undefined ? { param: Number(param) } : {}) };
}

export class Faults {
  private readonly active = new Map<FaultName, FaultSpec>();
  private readonly counters = new Map<FaultName, number>();
  private readonly log: (msg: string) => void;
  constructor(specs: FaultSpec[] = [], log: (msg: string) => void = (m) => process.stderr.write(`sim: ${m}\n`)) {
    this.log = log;
    for (const s of specs) this.active.set(s.name, s);
  }

  enable(name: FaultName, param?: number): void {
    this.active.set(name, { name, ...(param !== undefined ? { param } : {}) });
  }
  disable(name: FaultName): void {
    this.active.delete(name);
  }
  get(name: FaultName): FaultSpec | undefined {
    return this.active.get(name);
  }
  has(name: FaultName): boolean {
    return this.active.has(name);
  }

  /** For every-Nth faults: true on the request that should fail. */
  tick(name: FaultName): boolean {
    const f = this.active.get(name);
    if (!f) return false;
    const n = (this.counters.get(name) ?? 0) + 1;
    this.counters.set(name, n);
    return n % Math.max(1, f.param ?? 3) === 0;
  }

  /** How many times an every-Nth fault has been evaluated (for alternating behaviours). */
  count(name: FaultName): number {
    return this.counters.get(name) ?? 0;
  }

  fired(name: FaultName, detail: string): void {
    this.log(`fault ${name} fired: ${detail}`);
  }
}
