/** Every command answers `--help` with its usage on stdout and exit 0, as the top-level usage promises. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli, cliClosedStdout } from '../helpers/cli.ts';

describe('tlogwatch COMMAND --help', () => {
  it.each(['serve', 'verify', 'search', 'rules', 'backfill', 'backup', 'restore', 'resume'])('%s --help', async (command) => {
    const r = await cli([command, '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`tlogwatch ${command}\\b`));
  });

  it('serve --help says what the daemon does, what it prints and how it exits, as the other commands do', async () => {
    const r = await cli(['serve', '--help']);
    expect(r.stdout).toMatch(/^usage: tlogwatch serve /);
    expect(r.stdout).toMatch(/"listening URL" on\s+stdout/);
    expect(r.stdout).toContain('docs/configuration.md');
    expect(r.stdout).toMatch(/\nExit: 0 stopped by SIGTERM or Ctrl-C, 2 when it cannot start/);
  });

  it.each([
    ['serve', '--bogus'],
    ['search', '--bogus'],
    ['search', '--digest'],
    ['verify', '--bogus'],
    ['rules', 'check', '--bogus'],
    ['backup', '--bogus'],
    ['restore', '--bogus'],
    ['check', '--bogus'],
    ['backfill', '--bogus'],
    ['resume', '--bogus'],
  ])('%s %s: a refused flag is one line, then where the options are', async (command, ...args) => {
    const r = await cli([command, ...args]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    const [first, next, ...rest] = r.stderr.split('\n');
    expect(first).toMatch(new RegExp(`^tlogwatch ${command}: (Unknown option '--bogus'|Option '--digest <value>' argument missing)$`));
    expect(next).toMatch(new RegExp(`^(Run 'tlogwatch ${command} --help' for its options\\.|usage: tlogwatch ${command} )`));
    expect(rest).toEqual(['']);
  });

  it('rules --help says what check and test do, each flag, and the exit codes', async () => {
    const r = await cli(['rules', '--help']);
    expect(r.stdout).toMatch(/^usage: tlogwatch rules check DIR \| tlogwatch rules test DIR /);
    for (const part of ['rules check DIR ', 'rules test DIR ', '--data-dir DIR ', '--log NAME ', '--from N, --to N ', '--trusted-root FILE ', '--json ', '\nExit: 0 valid ']) expect(r.stdout).toContain(part);
  });

  it('the top-level usage names every command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['serve', 'verify', 'search', 'rules', 'backfill', 'backup', 'resume']) expect(r.stdout).toContain(`tlogwatch ${c}`);
  });

  it('a closed stdout ends any command quietly (status 141, as `git log | head` under pipefail), never a stack trace', async () => {
    for (const args of [['--help'], ['--version'], ['verify', '--help'], ['check', '--help']]) {
      expect(await cliClosedStdout(args), args.join(' ')).toEqual({ code: 141, signal: null, stderr: '' });
    }
  });

  it("the top-level usage and README's command table name every flag each command's own usage does", async () => {
    const top = (await cli(['--help'])).stdout;
    // The first cell of each row of README's command table, e.g. `serve [--config FILE] …`.
    const cells = readFileSync('README.md', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.slice(2, l.indexOf('` | ') + 1));
    for (const command of ['serve', 'verify', 'rules', 'backfill', 'check', 'backup', 'restore', 'search', 'resume']) {
      const flags = new Set((await cli([command, '--help'])).stdout.match(/--[a-z][a-z-]*/g));
      const row = cells.filter((c) => c.includes(`\`${command} `)).join(' ');
      for (const flag of flags) {
        expect(row, `README: ${command} ${flag}`).toContain(flag);
        // search's selectors are too many for one usage line: "--owner URI | ...".
        if (command !== 'search') expect(top, `tlogwatch --help: ${command} ${flag}`).toContain(flag);
      }
    }
  });
});
