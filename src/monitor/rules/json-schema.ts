/**
 * The JSON Schema of rule files for editors (monitor-rules/schema.json), generated from the zod schema
 * the daemon validates with, so the two cannot drift (a test compares the committed file).
 * Regenerate: `npx node scripts/rules-schema.ts`.
 */
import { z } from 'zod';
import { RekorMonitorSchema, RuleFileSchema } from './schema.ts';

export const RULES_SCHEMA_ID = 'https://github.com/tlogwatch/tlogwatch/monitor-rules/schema.json';

export function rulesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(z.union([RuleFileSchema, RekorMonitorSchema]), { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return { ...schema, $id: RULES_SCHEMA_ID, title: 'tlogwatch monitor rules', description: 'tlogwatch rules (rules/builtins) or a sigstore/rekor-monitor identity config (monitoredValues). Reference: monitor-rules/README.md' };
}
