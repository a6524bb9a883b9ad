/** Loads the real Sigstore fixtures (test/fixtures/realdata) for tests. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const REALDATA = 'test/fixtures/realdata';

export function filesUnder(dir: string, filter: (f: string) => boolean = () => true): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p, filter) : filter(p) ? [p] : [];
  });
}

export const readJson = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'));

export interface InventoryRow {
  file: string;
  kind: string;
  version: string;
  logIndex: string;
  proofIndex: string;
  integratedTime: string;
  treeSize: string;
  origin: string;
  set: boolean;
  san: string;
  issuer: string;
  /** From "[GHA ext 1.12 owner/repo]" in the SAN column. */
  repository?: string;
}

/** Rows of realdata/INVENTORY.md, one per tlog entry. */
export function inventory(): InventoryRow[] {
  const text = readFileSync(`${REALDATA}/INVENTORY.md`, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| file') && !l.startsWith('|---'))
    .map((l) => {
      const c = l.split('|').slice(1, -1).map((x) => x.trim());
      const [kind, version] = c[1]!.split('/');
      const sanCol = c[8]!;
      const repo = /\[GHA ext 1\.12 ([^\]]+)\]/.exec(sanCol)?.[1];
      return {
        file: c[0]!,
        kind: kind!,
        version: version!,
        logIndex: c[2]!,
        proofIndex: c[3]!,
        integratedTime: c[4]!,
        treeSize: c[5]!,
        origin: c[6]!.replace(/ \(\+\d+ sig\)$/, ''),
        set: c[7] === 'Y',
        san: sanCol.replace(/ \[GHA ext[^\]]*\]$/, ''),
        issuer: c[9]!,
        ...(repo ? { repository: repo } : {}),
      };
    });
}
