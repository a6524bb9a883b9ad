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

/** The directories of tlog-entry inputs (bundles, Rekor responses, npm's and PyPI's attestations). */
export const INPUT_DIRS = ['bundles', 'rekor-v1-api', 'rekor-v2-api', 'npm-attestations', 'pypi-attestations'] as const;
const INPUT_DIR_RE = new RegExp(`/(${INPUT_DIRS.join('|')})/`);
export const inInputDir = (f: string): boolean => INPUT_DIR_RE.test(f);

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
  /**
   * Fulcio's source repository URI (extension .12), from the SAN column: "[GHA ext 1.12 owner/repo]" for
   * GitHub Actions, "[ext 1.12 <URI>]" for other CI (GitLab).
   */
  repositoryURI?: string;
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
      const ext = /\[(GHA )?ext 1\.12 ([^\]]+)\]$/.exec(sanCol);
      const repositoryURI = ext ? (ext[1] ? `https://github.com/${ext[2]!}` : ext[2]!) : undefined;
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
        san: sanCol.replace(/ \[(GHA )?ext 1\.12 [^\]]*\]$/, ''),
        issuer: c[9]!,
        ...(repositoryURI ? { repositoryURI } : {}),
      };
    });
}
