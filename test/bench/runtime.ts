/**
 * How a benchmark starts the processes it measures: with Node's defaults, and the way the container image
 * runs the daemon. The image's way is read from the Dockerfile (the runtime stage's LD_PRELOAD and
 * MALLOC_CONF, and the node flags of its ENTRYPOINT), so the two cannot drift apart. The allocator matters
 * here: LevelDB's threads and Node's buffers run measurably faster and smaller on jemalloc than on glibc's
 * malloc (BENCHMARKS.md "Ingest" and "API"; docs/operations.md "Memory").
 *   BENCH_RUNTIME=image (or node) measures one of them only.
 */
import { byKeyword, env, execForm, stage } from '../ops/dockerfile.ts';
import { loadable } from '../ops/tools.ts';

export interface Runtime {
  name: string;
  /** Added to the child's environment. */
  env: Record<string, string>;
  /** Node's own flags, before the script. */
  nodeArgs: string[];
}

export const NODE_DEFAULTS: Runtime = { name: 'Node defaults (glibc malloc)', env: {}, nodeArgs: [] };

/** The image's runtime, or undefined (with a note on stderr) where its preloaded library is not installed. */
export function imageRuntime(): Runtime | undefined {
  const runtime = stage('runtime');
  const entrypoint = execForm(byKeyword(runtime, 'ENTRYPOINT')[0]!);
  const nodeArgs = entrypoint.slice(entrypoint.indexOf('node') + 1).filter((a) => a.startsWith('--'));
  const { LD_PRELOAD: preload, MALLOC_CONF: mallocConf } = env(runtime);
  if (preload && !loadable(preload)) {
    process.stderr.write(`bench: ${preload} is not installed (Debian: apt-get install libjemalloc2), so the image's runtime is not measured\n`);
    return undefined;
  }
  const what = [...(preload ? [preload.replace(/^lib|\.so.*$/g, '')] : []), ...(preload && mallocConf ? [`MALLOC_CONF=${mallocConf}`] : []), ...nodeArgs].join(', ');
  return { name: `as the image runs it (${what})`, env: preload ? { LD_PRELOAD: preload, ...(mallocConf ? { MALLOC_CONF: mallocConf } : {}) } : {}, nodeArgs };
}

export function runtimes(): Runtime[] {
  const only = process.env['BENCH_RUNTIME'];
  const image = only === 'node' ? undefined : imageRuntime();
  if (only === 'image') {
    if (!image) throw new Error('BENCH_RUNTIME=image, but the image runtime cannot run here');
    return [image];
  }
  return image ? [NODE_DEFAULTS, image] : [NODE_DEFAULTS];
}
