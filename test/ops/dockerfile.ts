/**
 * The Dockerfile as the operations tests see it: stages, the commands each stage runs, and the runtime
 * contract (user, volume, port, healthcheck, entrypoint, labels), read with dockerfile-ast.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction, type Label, type ModifiableInstruction, type JSONInstruction, type Healthcheck } from 'dockerfile-ast';
import { ROOT } from './tools.ts';

export interface Stage {
  name: string | undefined;
  image: string;
  instructions: Instruction[];
}

export const DOCKERFILE_TEXT = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
export const DOCKERFILE = DockerfileParser.parse(DOCKERFILE_TEXT);

export function stages(): Stage[] {
  const out: Stage[] = [];
  for (const ins of DOCKERFILE.getInstructions()) {
    if (ins.getKeyword() === 'FROM') {
      const args = ins.getArguments().map((a) => a.getValue());
      out.push({ name: args[2], image: args[0] ?? '', instructions: [] });
    } else out.at(-1)?.instructions.push(ins);
  }
  return out;
}

export function stage(name: string): Stage {
  const s = stages().find((x) => x.name === name);
  if (!s) throw new Error(`Dockerfile has no stage ${name}`);
  return s;
}

export const byKeyword = (s: Stage, k: string) => s.instructions.filter((i) => i.getKeyword() === k);

/** A RUN's shell command without its flags (--mount=...), continuation lines joined. */
export function runCommand(ins: Instruction): string {
  return (ins.getArgumentsContent() ?? '').replace(/\s+/g, ' ').trim();
}

export function runFlags(ins: Instruction): string[] {
  return (ins as ModifiableInstruction).getFlags().map((f) => `${f.getName()}=${f.getValue() ?? ''}`);
}

/** The exec form (JSON array) of CMD / ENTRYPOINT; throws on the shell form. */
export function execForm(ins: Instruction): string[] {
  const strings = (ins as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
  if (strings.length === 0) throw new Error(`${ins.getKeyword()} is not in exec (JSON) form`);
  return strings;
}

export function healthcheck(s: Stage): { flags: Record<string, string>; cmd: string[] } {
  const [hc] = byKeyword(s, 'HEALTHCHECK') as Healthcheck[];
  if (!hc) throw new Error('no HEALTHCHECK');
  const flags = Object.fromEntries(hc.getFlags().map((f) => [f.getName(), f.getValue() ?? '']));
  const content = hc.getArgumentsContent() ?? '';
  const m = /^CMD\s+(\[.*\])\s*$/s.exec(content);
  if (!m) throw new Error(`HEALTHCHECK is not CMD [exec form]: ${content}`);
  const cmd = JSON.parse(m[1]!) as unknown;
  if (!Array.isArray(cmd) || !cmd.every((x) => typeof x === 'string')) throw new Error('HEALTHCHECK CMD is not a list of strings');
  return { flags, cmd };
}

/** KEY=VALUE properties of every LABEL or ENV instruction of a stage, with the quotes removed. */
function properties(s: Stage, keyword: 'LABEL' | 'ENV'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of byKeyword(s, keyword) as Label[]) for (const p of l.getProperties()) out[p.getName()] = (p.getUnescapedValue() ?? '').replace(/^"(.*)"$/s, '$1');
  return out;
}

export const labels = (s: Stage) => properties(s, 'LABEL');
export const env = (s: Stage) => properties(s, 'ENV');

/** ARG defaults of a stage. */
export function args(s: Stage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of byKeyword(s, 'ARG')) {
    const [name, value] = (a.getArgumentsContent() ?? '').split('=');
    if (name) out[name] = value ?? '';
  }
  return out;
}

/** COPY sources taken from the build context (not --from another stage). */
export function contextCopies(s: Stage): Array<{ sources: string[]; dest: string }> {
  return (byKeyword(s, 'COPY') as ModifiableInstruction[])
    .filter((c) => !c.getFlags().some((f) => f.getName() === 'from'))
    .map((c) => {
      const a = c.getArguments().map((x) => x.getValue());
      return { sources: a.slice(0, -1), dest: a.at(-1) ?? '' };
    });
}
