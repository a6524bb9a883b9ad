#!/usr/bin/env node
// Runs the compiled CLI when present (Docker image), the TypeScript source otherwise
// (Node >= 22.18 / 24 strips types natively).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const cli = await import(existsSync(compiled) ? compiled : new URL('../src/cli.ts', import.meta.url).href);
cli.run();
