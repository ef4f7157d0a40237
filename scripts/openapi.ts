import { writeFileSync } from 'node:fs';
import { buildOpenApi } from '#shared/http/openapi.ts';

/** JSON laid out as Biome and Prettier lay it out: an object or array on one line when it fits in `width` columns. */
export function formatJson(value: unknown, width = 120): string {
  const inline = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
    if (v && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`);
      return entries.length ? `{ ${entries.join(', ')} }` : '{}';
    }
    return JSON.stringify(v);
  };
  const lay = (v: unknown, indent: string, used: number): string => {
    const one = inline(v);
    if (indent.length + used + one.length <= width || !v || typeof v !== 'object') return one;
    const inner = `${indent}  `;
    const lines = Array.isArray(v)
      ? v.map((x) => `${inner}${lay(x, inner, 1)}`)
      : Object.entries(v).map(
          ([k, x]) => `${inner}${JSON.stringify(k)}: ${lay(x, inner, JSON.stringify(k).length + 3)}`,
        );
    if (!lines.length) return one;
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    return `${open}\n${lines.join(',\n')}\n${indent}${close}`;
  };
  return `${lay(value, '', 0)}\n`;
}

/** Writes docs/openapi.json from the zod contract (`npm run openapi`). */
// 160 columns: the document stays readable line by line and under 100,000 bytes (test/unit/contract.test.ts).
writeFileSync(new URL('../docs/openapi.json', import.meta.url), formatJson(buildOpenApi(), 160));
console.log('wrote docs/openapi.json');
