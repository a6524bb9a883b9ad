/** Writes monitor-rules/schema.json from the zod schema the daemon validates rule files with. */
import { writeFileSync } from 'node:fs';
import { rulesJsonSchema } from '../src/monitor/rules/json-schema.ts';

writeFileSync('monitor-rules/schema.json', `${JSON.stringify(rulesJsonSchema(), null, 2)}\n`);
