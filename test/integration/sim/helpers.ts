/** Shared by the simulator tests: start simulators in temp dirs, read manifests, fetch, and the oracles. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MerkleTree } from 'merkletreejs';
import { parseHashTile } from '../../../src/sources/tiles.ts';
import { tilePath } from '../../../src/merkle/tiles.ts';
import type { TileReader } from '../../../src/merkle/tiles.ts';
import { checkpointVerifierForTlog, parseTrustedRoot, type TlogTrust } from '../../../src/trust/trusted-root.ts';
import type { ManifestLine } from '../../sim/generate.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../sim/index.ts';

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

const started: Array<{ sim: Simulator; out: string }> = [];

/** A simulator in a fresh temp dir, silent unless `log` is given; `stopAll()` closes them and removes the dirs. */
export async function sim(o: Omit<SimulatorOptions, 'out'>): Promise<Simulator> {
  const out = mkdtempSync(join(tmpdir(), 'tlogwatch-simtest-'));
  try {
    const s = await startSimulator({ log: () => undefined, ...o, out });
    started.push({ sim: s, out });
    return s;
  } catch (e) {
    rmSync(out, { recursive: true, force: true }); // a simulator that refused its options leaves nothing behind
    throw e;
  }
}
export async function stopAll(): Promise<void> {
  for (const { sim: s, out } of started.splice(0)) {
    await s.close();
    rmSync(out, { recursive: true, force: true });
  }
}

export const manifest = (s: Simulator): ManifestLine[] =>
  readFileSync(s.manifestPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ManifestLine);

export function trustOf(s: Simulator): { tlog: TlogTrust; verifier: ReturnType<typeof checkpointVerifierForTlog> } {
  const tlog = parseTrustedRoot(JSON.parse(readFileSync(s.trustedRootPath, 'utf8')) as unknown).tlogs[0]!;
  return { tlog, verifier: checkpointVerifierForTlog(tlog) };
}

export async function bytes(url: string, init?: RequestInit): Promise<Uint8Array> {
  const res = await fetch(url, init);
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
export async function getJson(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}
export const post = (url: string, body: unknown) => fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** A TileReader over the simulator's HTTP tiles. */
export const httpTiles =
  (s: Simulator): TileReader =>
  async (level, n, width) =>
    parseHashTile(await bytes(`${s.url}/${tilePath(level, n, width)}`));

// ---------------------------------------------------------------- merkletreejs, the independent oracle

/** RFC 6962 with merkletreejs: leaves given already hashed, nodes SHA-256(0x01 || l || r), odd nodes promoted. */
export function oracleTree(leaves: readonly Uint8Array[]): MerkleTree {
  return new MerkleTree(
    leaves.map((l) => Buffer.from(l)),
    (d: Buffer) => createHash('sha256').update(Buffer.from([1])).update(d).digest(),
    { hashLeaves: false },
  );
}
export const oracleRoot = (leaves: readonly Uint8Array[]) => (leaves.length === 0 ? createHash('sha256').digest('hex') : oracleTree(leaves).getRoot().toString('hex'));
/** The audit path of leaf i, leaf to root. */
export const oracleProof = (t: MerkleTree, i: number) => t.getProof(t.getLeaves()[i]!, i).map((p) => p.data.toString('hex'));

/** Key names and JSON value types, recursively (arrays by their first element). */
export function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}
