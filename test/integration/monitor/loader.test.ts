/** Rule directories and hot reload, on a real temporary directory (fs.watch). */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { evaluate } from '../../../src/monitor/eval/evaluate.ts';
import { loadRules, readRuleFiles, watchRules, type RulesWatch } from '../../../src/monitor/loader.ts';
import type { RuleSet } from '../../../src/monitor/rules/compiled.ts';
import { ghaEntry } from '../../unit/monitor/helpers.ts';

const dirs: string[] = [];
let w: RulesWatch | undefined;
afterEach(() => {
  w?.close();
  w = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tlogwatch-rules-'));
  dirs.push(d);
  return d;
};
const rule = (id: string, ref: string) => `rules:\n  - id: ${id}\n    watch: { repositories: ['github.com/acme/*'] }\n    expect: { sourceRefs: ['${ref}'] }\n`;
const entry = ghaEntry('acme', 'api', 'release.yml', 'refs/tags/v1');

/** Resolves with the next change or rejected edit (the watcher's own events; no timing assumptions). */
function watching(dir: string) {
  const changes: RuleSet[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  let wake: () => void = () => {};
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  w = watchRules(
    dir,
    (rs) => {
      changes.push(rs);
      wake();
    },
    (message) => {
      errors.push(message);
      wake();
    },
    { debounceMs: 20, onWarnings: (message) => warnings.push(message) },
  );
  return { changes, errors, warnings, next };
}

describe('rule directories', () => {
  it('reads YAML files recursively in name order, skipping dot-files and other files', () => {
    const d = tempDir();
    mkdirSync(join(d, 'team'));
    writeFileSync(join(d, 'b.yaml'), rule('b', 'refs/tags/*'));
    writeFileSync(join(d, 'team', 'a.yml'), rule('a', 'refs/tags/*'));
    writeFileSync(join(d, '.#b.yaml'), 'garbage: [');
    writeFileSync(join(d, 'notes.txt'), 'not rules');
    expect(readRuleFiles(d).map((f) => f.name.slice(d.length + 1))).toEqual(['b.yaml', join('team', 'a.yml')]);
    expect(loadRules(d).rules.map((r) => r.id)).toEqual(['b', 'a']);
  });
  it('an invalid directory is refused with every error and its location', () => {
    const d = tempDir();
    writeFileSync(join(d, 'bad.yaml'), 'rules:\n  - id: x\n    watch: {}\n');
    let err: unknown;
    try {
      loadRules(d);
    } catch (e) {
      err = e;
    }
    expect(isTlogwatchError(err, 'RULES_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/bad\.yaml:3:12: rules\[0\]\.watch: watch needs at least one selector/);
  });
});

describe('a rules path that is not a directory', () => {
  it('is refused as RULES_INVALID naming the directory, not a bare ENOENT', () => {
    const d = tempDir();
    writeFileSync(join(d, 'file.yaml'), rule('a', 'refs/tags/*'));
    for (const [path, why] of [
      [join(d, 'missing'), 'does not exist'],
      [join(d, 'file.yaml'), 'is not a directory'],
    ] as const) {
      let err: unknown;
      try {
        readRuleFiles(path);
      } catch (e) {
        err = e;
      }
      expect(isTlogwatchError(err, 'RULES_INVALID')).toBe(true);
      expect((err as Error).message).toBe(`the rules directory ${path} ${why}`);
    }
  });
});

describe('hot reload', () => {
  it('a changed file applies to the next entry; an invalid edit keeps the old rules and says why', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'release.yaml'), rule('release', 'refs/tags/*'));
    const { changes, errors, next } = watching(d);
    expect(evaluate(w!.current, entry, 0)).toEqual([]);

    let event = next();
    writeFileSync(join(d, 'release.yaml'), rule('release', 'refs/heads/main'));
    await event;
    expect(changes).toHaveLength(1);
    expect(evaluate(w!.current, entry, 0).map((f) => f.expectation)).toEqual(['expect.sourceRefs']);

    event = next();
    writeFileSync(join(d, 'release.yaml'), 'rules:\n  - id: release\n    watch: {}\n');
    await event;
    expect(errors[0]).toMatch(/not reloaded, the previous rules stay in force:\n.*release\.yaml:3:12: rules\[0\]\.watch/);
    expect(w!.current).toBe(changes[0]);

    event = next();
    writeFileSync(join(d, 'release.yaml'), rule('release', 'refs/tags/*'));
    await event;
    expect(changes).toHaveLength(2);
    expect(evaluate(w!.current, entry, 0)).toEqual([]);
  });
  it('an invalid edit undone back to the rules in force says they are in force again', async () => {
    const d = tempDir();
    const good = rule('release', 'refs/tags/*');
    writeFileSync(join(d, 'release.yaml'), good);
    const { changes, errors, next } = watching(d);
    const first = w!.current;

    let event = next();
    writeFileSync(join(d, 'release.yaml'), good.replace('expect:', 'expext:'));
    await event;
    expect(errors).toHaveLength(1);
    expect(changes).toHaveLength(0);

    // The same bytes as the rules in force: nothing to reload, but the refusal must not be the last word.
    event = next();
    writeFileSync(join(d, 'release.yaml'), good);
    await event;
    expect(changes).toEqual([first]);
    expect(w!.current).toBe(first);

    // Rewritten unchanged again: nothing to say.
    writeFileSync(join(d, 'release.yaml'), good);
    writeFileSync(join(d, 'other.yaml'), rule('other', 'refs/tags/*'));
    await next();
    expect(changes.map((c) => c.rules.map((r) => r.id))).toEqual([['release'], ['other', 'release']]);
  });
  it('new and deleted files count; an unchanged rewrite does not reload', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'a.yaml'), rule('a', 'refs/tags/*'));
    const { changes, next } = watching(d);
    let event = next();
    writeFileSync(join(d, 'a.yaml'), rule('a', 'refs/tags/*')); // same bytes
    writeFileSync(join(d, 'b.yaml'), rule('b', 'refs/tags/*'));
    await event;
    expect(changes.map((c) => c.rules.map((r) => r.id))).toEqual([['a', 'b']]);
    event = next();
    unlinkSync(join(d, 'a.yaml'));
    await event;
    expect(changes.at(-1)!.rules.map((r) => r.id)).toEqual(['b']);
  });

  it('warns when the directory holds no rule file, at the start and when the last one goes', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'rules.json'), '{"rules": []}');
    const { warnings, next } = watching(d);
    expect(warnings).toEqual([`no rule files in ${d} (*.yaml or *.yml, read recursively; dot-files skipped): no entry is watched`]);
    let event = next();
    writeFileSync(join(d, 'a.yaml'), rule('a', 'refs/tags/*'));
    await event;
    expect(warnings).toHaveLength(1);
    event = next();
    unlinkSync(join(d, 'a.yaml'));
    await event;
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toBe(warnings[0]);
  });

  it('reports the warnings of the first rule set and of every reload, with their positions', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'a.yaml'), "rules:\n  - id: silent\n    watch: { repositories: ['github.com/acme/*'] }\n");
    const { changes, warnings, next } = watching(d);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/1 warning\(s\):\n.*a\.yaml:2:\d+: warning: .*never fires/);
    const event = next();
    writeFileSync(join(d, 'a.yaml'), rule('a', 'refs/tags/*'));
    await event;
    expect(changes).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    writeFileSync(join(d, 'b.yaml'), "rules:\n  - id: b\n    watch: { identities: ['https://github.com/acme/x/.github/workflows/a.yml@*'] }\n    expect: { sourceRefs: ['refs/tags/*'] }\n");
    await next();
    expect(warnings.at(-1)).toMatch(/b\.yaml:3:\d+: warning: .*@\*/);
  });
});
