import { writeFileSync } from 'node:fs';
import { buildOpenApi } from '#shared/http/openapi.ts';

/** Writes docs/openapi.json from the zod contract (`npm run openapi`). */
writeFileSync(new URL('../docs/openapi.json', import.meta.url), `${JSON.stringify(buildOpenApi(), null, 2)}\n`);
console.log('wrote docs/openapi.json');
