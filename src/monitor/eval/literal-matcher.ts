/**
 * Which of many literals occur in a run of bytes, in one pass: an Aho-Corasick automaton (Aho and Corasick,
 * "Efficient string matching", CACM 18(6), 1975) made into a DFA over byte classes, for `undecoded-entry`
 * (./undecoded.ts), which looks for every value the rules watch in up to 12 MiB of an entry anyone can log.
 *
 * Searching for each literal in turn cost the text's length once per literal, and a body of near misses
 * of one watched value (`u1@acme1.co…` repeated) made each search slow: ~1 s for 4 MiB against 200
 * literals. One pass over the bytes costs the same whatever they hold: a table read per byte.
 *
 * ASCII letters match either case (the literals are lower case); other bytes match exactly, so a literal
 * is looked for as its UTF-8 bytes, as a body spells it. The table has a row per trie node and a column
 * per byte the literals use (all other bytes share one), so its size is bounded by MAX_CELLS; a rule set
 * past that (tens of thousands of watched values) gets no matcher, and the caller searches literal by
 * literal instead.
 */

/** Table cells (4 bytes each) a matcher may use: 16 MiB. */
export const MAX_CELLS = 4 * 1024 * 1024;

const lowerAscii = (b: number) => (b >= 65 && b <= 90 ? b + 32 : b);

export class LiteralMatcher {
  /** Byte → its class (0: a byte no literal uses). */
  readonly #cls = new Uint8Array(256);
  readonly #classes: number;
  /**
   * delta[row + class] → the next state's row, rows being state × classes (kept multiplied, so a step is
   * one add and one read); bitwise NOT of it (negative) for a state where a literal ends, its suffixes'
   * included, so that test needs no second read.
   */
  readonly #delta: Int32Array;
  /** The literals (by index) that end at each state, by row / classes. */
  readonly #out: readonly (readonly number[])[];
  readonly count: number;

  private constructor(patterns: readonly Uint8Array[]) {
    this.count = patterns.length;
    let classes = 1;
    for (const p of patterns) for (const b of p) if (this.#cls[b] === 0) this.#cls[b] = classes++;
    // Upper-case ASCII reads as its lower case, which is all a literal holds.
    for (let b = 65; b <= 90; b++) this.#cls[b] = this.#cls[b + 32]!;
    this.#classes = classes;
    // The trie: children by class, per state.
    const children: Map<number, number>[] = [new Map<number, number>()];
    const out: number[][] = [[]];
    patterns.forEach((p, i) => {
      let s = 0;
      for (const b of p) {
        const c = this.#cls[b]!;
        let next = children[s]!.get(c);
        if (next === undefined) {
          next = children.length;
          children.push(new Map<number, number>());
          out.push([]);
          children[s]!.set(c, next);
        }
        s = next;
      }
      out[s]!.push(i);
    });
    const states = children.length;
    const delta = new Int32Array(states * classes);
    const fail = new Int32Array(states);
    // Breadth first, so a state's failure state (a shorter suffix) is complete before it is needed.
    const queue: number[] = [];
    for (let c = 0; c < classes; c++) {
      const next = children[0]!.get(c);
      if (next !== undefined) {
        delta[c] = next;
        queue.push(next);
      }
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      const f = fail[s]!;
      if (out[f]!.length) out[s]!.push(...out[f]!);
      for (let c = 0; c < classes; c++) {
        const next = children[s]!.get(c);
        if (next === undefined) delta[s * classes + c] = delta[f * classes + c]!;
        else {
          delta[s * classes + c] = next;
          fail[next] = delta[f * classes + c]!;
          queue.push(next);
        }
      }
    }
    for (let i = 0; i < delta.length; i++) {
      const next = delta[i]!;
      delta[i] = out[next]!.length ? ~(next * classes) : next * classes;
    }
    this.#delta = delta;
    this.#out = out;
  }

  /**
   * A matcher for `literals` (each looked for as its UTF-8 bytes, lower case); undefined when its table
   * would pass MAX_CELLS or a literal is empty (which every text contains).
   */
  static of(literals: readonly string[]): LiteralMatcher | undefined {
    const patterns = literals.map((l) => new Uint8Array(Buffer.from(l, 'utf8')).map(lowerAscii));
    if (patterns.some((p) => p.length === 0)) return undefined;
    const distinct = new Set<number>();
    let states = 1;
    for (const p of patterns) {
      states += p.length;
      for (const b of p) distinct.add(b);
    }
    if (states * (distinct.size + 1) > MAX_CELLS) return undefined;
    return new LiteralMatcher(patterns);
  }

  /**
   * Marks in `found` (by index) each literal that occurs in `bytes`, and returns how many it marked; stops
   * as soon as every literal is marked.
   */
  find(bytes: Uint8Array, found: Uint8Array): number {
    const cls = this.#cls;
    const delta = this.#delta;
    let left = this.count;
    for (const v of found) if (v) left--;
    let marked = 0;
    let row = 0;
    const n = bytes.length;
    for (let i = 0; i < n && left > 0; i++) {
      row = delta[row + cls[bytes[i]!]!]!;
      if (row >= 0) continue;
      row = ~row;
      for (const k of this.#out[row / this.#classes]!) {
        if (found[k]) continue;
        found[k] = 1;
        marked++;
        left--;
      }
    }
    return marked;
  }
}
