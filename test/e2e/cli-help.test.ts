/** Every command answers `--help` with its usage on stdout and exit 0, as the top-level usage promises. */
import { describe, expect, it } from 'vitest';
import { cli, cliClosedStdout } from '../helpers/cli.ts';

describe('tlogwatch COMMAND --help', () => {
  it.each(['serve', 'verify', 'search', 'rules', 'backfill', 'backup', 'restore'])('%s --help', async (command) => {
    const r = await cli([command, '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`tlogwatch ${command}\\b`));
  });

  it('the top-level usage names every command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['serve', 'verify', 'search', 'rules', 'backfill', 'backup']) expect(r.stdout).toContain(`tlogwatch ${c}`);
  });

  it('a closed stdout ends any command quietly (status 141, as `git log | head` under pipefail), never a stack trace', async () => {
    for (const args of [['--help'], ['--version'], ['verify', '--help'], ['check', '--help']]) {
      expect(await cliClosedStdout(args), args.join(' ')).toEqual({ code: 141, signal: null, stderr: '' });
    }
  });
});
