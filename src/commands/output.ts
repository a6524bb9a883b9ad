/**
 * What a closed stdout does to the command that is running. By default it ends it quietly (cli.ts,
 * status 141 as SIGPIPE would). A command whose stdout is not its product (serve prints one
 * "listening" line, then logs to stderr) sets its own reaction, so a reader that went away cannot
 * stop the mirror.
 */
let onClosedStdout: (() => void) | undefined;

export function whenStdoutCloses(react: () => void): void {
  onClosedStdout = react;
}

/** The running command's reaction, if it set one. */
export function closedStdoutReaction(): (() => void) | undefined {
  return onClosedStdout;
}
