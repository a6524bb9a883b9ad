/** `tlogwatch rules check`: valid, valid with warnings (shown with file:line:column), invalid. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-rules-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function rulesDir(name: string, text: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'rules.yaml'), text);
  return dir;
}

describe('tlogwatch rules check', () => {
  it('says how many rules are valid', async () => {
    const dir = rulesDir('ok', "rules:\n  - id: tags-only\n    watch: { repositories: ['github.com/acme/*'] }\n    expect: { sourceRefs: ['refs/tags/*'] }\n");
    const r = await cli(['rules', 'check', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`1 rule(s) valid in ${dir}\n`);
    expect(r.stderr).toBe('');
  });

  it('prints warnings where they are, and still passes', async () => {
    // A rule with no expectations never fires: valid, but not what its author meant.
    const dir = rulesDir('warn', "rules:\n  - id: silent\n    watch: { repositories: ['github.com/acme/*'] }\n");
    const r = await cli(['rules', 'check', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 rule\(s\) valid in .*, 1 warning\(s\)/);
    expect(r.stderr).toMatch(/rules\.yaml:2:\d+: warning: .*never fires/);
  });

  it('fails on an invalid rule with its position', async () => {
    const dir = rulesDir('bad', 'rules:\n  - id: broken\n    watch: { repositories: 42 }\n');
    const r = await cli(['rules', 'check', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rules\.yaml:3:\d+: /);
  });
});
