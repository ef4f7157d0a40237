/**
 * `npm run schema:elevate`: writes docs/elevate.schema.json, the JSON Schema of the policy-as-code file
 * (elevate.yaml), generated from its zod schema (cli/policy/format.ts). test/unit/policy-file.test.ts checks that
 * the committed file equals what this writes.
 */
import { writeFile } from 'node:fs/promises';
import { elevateSchemaText } from '../cli/policy/format.ts';

const out = new URL('../docs/elevate.schema.json', import.meta.url);
await writeFile(out, elevateSchemaText());
process.stdout.write(`wrote ${out.pathname}\n`);
