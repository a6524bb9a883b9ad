/** The JSON Schema of rule files, for editors (monitor-rules/schema.json), from the zod schema. */
import { z } from 'zod';
import { RuleFileSchema } from './schema.ts';

export function rulesJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(RuleFileSchema, { io: 'input', unrepresentable: 'any' }), title: 'tlogwatch monitor rules', $id: 'https://tlogwatch.dev/schemas/monitor-rules.json' };
}
