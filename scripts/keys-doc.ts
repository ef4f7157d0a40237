import { readFileSync, writeFileSync } from 'node:fs';
import { ENTITIES } from '#shared/store/entities.ts';
import { withKeyTable } from '#shared/store/keyspace.ts';

/** Writes the key table of docs/data-model.md from shared/store/entities.ts (`npm run keys:doc`). */
const doc = new URL('../docs/data-model.md', import.meta.url);
writeFileSync(doc, withKeyTable(readFileSync(doc, 'utf8'), ENTITIES));
console.log('wrote the key table of docs/data-model.md');
