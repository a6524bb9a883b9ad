/**
 * How the offline commands (check, backfill, rules test, backup, restore) reach a store: an existing one
 * only, never one created where a mistyped path points; and a store a running `tlogwatch serve` holds
 * (LevelDB's LOCK, level.ts STORE_LOCKED) is named as such, with what to do about it, in every one of them.
 */
import { join } from 'node:path';
import { loadConfig, type ConfigKey } from '../config/load.ts';
import { describeError, isTlogwatchError, TlogwatchError } from '../errors.ts';
import type { IndexMode } from '../store/index-values.ts';
import { levelDirState } from '../store/level.ts';
import { Store } from '../store/store.ts';

/** The one line an offline command prints for an error from opening or copying a store. */
export function storeErrorText(e: unknown): string {
  if (isTlogwatchError(e, 'STORE_LOCKED')) return `${e.message}: stop tlogwatch serve first (it holds the store while it runs)`;
  // No store there (openExistingStore), or a volume that cannot be read (level.ts): the message says it all.
  if (isTlogwatchError(e, 'STORE_UNAVAILABLE')) return e.message;
  return describeError(e);
}

/**
 * Opens the store at `dir` if there is one, never creating one: a mistyped --data-dir must say so rather
 * than pass over an empty store it just made. A LevelDB directory is a store once it has a CURRENT file;
 * `nothing` says what its absence means for the command.
 */
export async function openExistingStore(dir: string, nothing: string, opts: { indexMode?: IndexMode; upgrade?: boolean; onUpgrade?: (message: string, data: Record<string, unknown>) => void } = {}): Promise<Store> {
  // A store that lost its CURRENT is not "nothing mirrored there": opening it says it is damaged (level.ts openLevel).
  if (levelDirState(dir) === 'none') throw new TlogwatchError('STORE_UNAVAILABLE', `no store at ${dir}: ${nothing}`, { kind: 'fatal' });
  return Store.open(dir, { ...opts, createIfMissing: false });
}

/** The line that says the store holds no log named `name` (and which it holds); undefined when it holds it. */
export function unknownLog(store: Store, name: string): string | undefined {
  const logs = store.logNamesKnown().sort();
  return logs.includes(name) ? undefined : `no log named ${name} in the store (it holds ${logs.length ? logs.join(', ') : 'none'})`;
}

/**
 * The store `serve` would use, found as it is given (`--config`, `--data-dir`), with the configuration; opened
 * as openExistingStore does and not upgraded (an offline command that changes the store leaves an older
 * schema to `serve`). Or the one line that says why not.
 */
export async function openConfiguredStore(flags: { config?: string | undefined; dataDir?: string | undefined }, unused: readonly ConfigKey[]): Promise<{ store: Store; config: ReturnType<typeof loadConfig> } | { error: string }> {
  let config;
  try {
    config = loadConfig(flags.config, flags.dataDir ? { dataDir: flags.dataDir } : {}, process.env, { unused });
  } catch (e) {
    return { error: describeError(e) };
  }
  try {
    return { config, store: await openExistingStore(join(config.dataDir, 'store'), 'nothing has been mirrored there', { upgrade: false }) };
  } catch (e) {
    return { error: storeErrorText(e) };
  }
}
