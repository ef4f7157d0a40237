/**
 * Loads a bundle's external packages (the AWS SDK, which the Lambda runtime provides) through CommonJS `require`
 * instead of ESM `import`.
 *
 * The SDK's packages are CommonJS. An ES module that imports one makes Node's ESM loader resolve, lex (for its named
 * exports) and wrap it and, since Node 20, every module it requires in turn: measured on the floor bundle (the
 * DynamoDB client and document client, bench/cold.ts), the import took 101 ms on Node 22 (130 on Node 20) and 69 ms
 * (96) through `require`, a third of its CPU (bench/README.md, "Loading the SDK through require"). So the house
 * bundles keep esbuild's ESM output (code splitting needs it) and, once built, have each import of an external
 * package rewritten in place:
 *
 * - `import{A as b,C as d}from"@aws-sdk/x"` → `const{A:b,C:d}=__elevateRequire("@aws-sdk/x")` (at load, as before);
 * - `import("@aws-sdk/x")` → `__elevateImport("@aws-sdk/x")` (on first use, as before; a promise of the module).
 *
 * Both helpers are declared by the house banner (app-function.ts), on the first line of every file. CommonJS
 * resolution also searches NODE_PATH, which the Lambda runtime's bootstrap sets, when the function does not, to
 * `/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`: the
 * runtime's SDK is in /var/runtime/node_modules (test/infra/bundling.test.ts checks that no function sets NODE_PATH).
 *
 * The rewrite keeps each file's source map exact: every import statement sits on one line of esbuild's minified
 * output, the columns after it on that line are shifted by the length it gained or lost, and its own segments stay
 * within its new text.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { initSync, parse } from 'es-module-lexer';

/** Loads a package at once (replaces a static import). */
export const STATIC_REQUIRE = '__elevateRequire';
/** Loads a package on first use: a promise of its exports (replaces a dynamic `import()`). */
export const DYNAMIC_REQUIRE = '__elevateImport';

/** One replacement of `code.slice(start, end)` by `text`. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

/** A package the function finds at run time: not one of its own chunks, not a Node builtin. */
const isPackage = (specifier: string) =>
  !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('node:') && !isBuiltin(specifier);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function identifier(name: string, statement: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`cannot rewrite ${statement}: "${name}" is not an identifier`);
  return name;
}

/** The declarators of `const …=require(…)` for an import clause (`D`, `* as N`, `{a as b, c}`, or combinations). */
function declarators(clause: string, load: string, statement: string): string[] {
  const out: string[] = [];
  let rest = clause.trim();
  const named = /\{([^}]*)\}$/.exec(rest);
  if (named) {
    const pairs: string[] = [];
    for (const entry of (named[1] as string).split(',').map((e) => e.trim())) {
      if (!entry) continue;
      const [name, alias, ...extra] = entry.split(/\s+as\s+/);
      if (extra.length > 0 || name === undefined) throw new Error(`cannot rewrite ${statement}: "${entry}"`);
      const local = identifier(alias ?? name, statement);
      // The default export of a CommonJS module imported from ESM is its module.exports.
      if (name === 'default') out.push(`${local}=${load}`);
      else pairs.push(alias === undefined ? identifier(name, statement) : `${identifier(name, statement)}:${local}`);
    }
    if (pairs.length > 0) out.push(`{${pairs.join(',')}}=${load}`);
    rest = rest.slice(0, named.index).trim().replace(/,$/, '').trim();
  }
  const namespace = /^(.*?),?\s*\*\s*as\s+([A-Za-z_$][\w$]*)$/.exec(rest);
  if (namespace) {
    out.unshift(`${namespace[2]}=${load}`);
    rest = (namespace[1] as string).trim();
  }
  if (rest) out.unshift(`${identifier(rest, statement)}=${load}`);
  return out;
}

/** The edits that load every external package of one ES module through `require`. */
function editsOf(code: string): Edit[] {
  initSync();
  const [imports] = parse(code);
  const edits: Edit[] = [];
  for (const i of imports) {
    if (i.n === undefined || !isPackage(i.n)) continue;
    const statement = code.slice(i.ss, i.se);
    const spec = JSON.stringify(i.n);
    if (i.d >= 0) {
      // import("pkg"): the whole call, parentheses included
      edits.push({ start: i.ss, end: i.se, text: `${DYNAMIC_REQUIRE}(${spec})` });
      continue;
    }
    if (i.d !== -1 || !statement.startsWith('import')) {
      throw new Error(`cannot rewrite an import of ${i.n} that is not an import statement: ${statement.slice(0, 120)}`);
    }
    const load = `${STATIC_REQUIRE}(${spec})`;
    const clause = code
      .slice(i.ss + 'import'.length, i.s - 1)
      .replace(/\s*from\s*$/, '')
      .trim();
    const list = clause ? declarators(clause, load, statement) : [];
    const declaration = list.join(',');
    const text = declaration ? `const${declaration.startsWith('{') ? '' : ' '}${declaration}` : load;
    edits.push({ start: i.ss, end: i.se, text });
  }
  return edits;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes one source-map segment's VLQ fields. */
function decodeSegment(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    if (digit < 0) throw new Error(`not a source map segment: ${segment}`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    values.push(value % 2 === 1 ? -(value - 1) / 2 : value / 2);
    value = 0;
    shift = 0;
  }
  return values;
}

function encodeSegment(values: readonly number[]): string {
  let out = '';
  for (const v of values) {
    let rest = v < 0 ? -v * 2 + 1 : v * 2;
    do {
      let digit = rest % 32;
      rest = Math.floor(rest / 32);
      if (rest > 0) digit |= 32;
      out += BASE64[digit];
    } while (rest > 0);
  }
  return out;
}

/** One line's segments, each as its decoded fields with the generated column made absolute. */
function lineSegments(line: string): number[][] {
  let column = 0;
  return line
    .split(',')
    .filter((segment) => segment !== '')
    .map((segment) => {
      const fields = decodeSegment(segment);
      column += fields[0] as number;
      fields[0] = column;
      return fields;
    });
}

/** The generated columns of every line of a source map's mappings (for checking that they stay in order). */
export function generatedColumns(mappings: string): number[][] {
  return mappings.split(';').map((line) => lineSegments(line).map((fields) => fields[0] as number));
}

/**
 * One line's mappings after `[start, end)` became `length` characters long: the segments after it move by the
 * difference, and those inside it stay inside it (clamped to its new end), so the columns stay in order. Only the
 * generated column changes; the other fields are relative to the previous segment and no segment is removed.
 */
function shiftLine(line: string, start: number, end: number, length: number): string {
  const delta = length - (end - start);
  let previous = 0;
  return lineSegments(line)
    .map((fields) => {
      const column = fields[0] as number;
      const moved = column >= end ? column + delta : column >= start ? Math.min(column, start + length - 1) : column;
      fields[0] = moved - previous;
      previous = moved;
      return encodeSegment(fields);
    })
    .join(',');
}

/** Applies edits (none spanning lines) to code and to its source map's mappings. */
function applyEdits(code: string, mappings: string | undefined, edits: readonly Edit[]) {
  const lineStarts = [0];
  for (let k = code.indexOf('\n'); k >= 0; k = code.indexOf('\n', k + 1)) lineStarts.push(k + 1);
  const lineOf = (offset: number) => {
    let line = 0;
    while (line + 1 < lineStarts.length && (lineStarts[line + 1] as number) <= offset) line++;
    return line;
  };
  const lines = mappings?.split(';');
  let out = code;
  // Right to left: an edit never moves the offsets (or the columns) of the edits before it.
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    const line = lineOf(edit.start);
    if (lineOf(edit.end) !== line)
      throw new Error(`cannot rewrite an import that spans lines: ${code.slice(edit.start, edit.end)}`);
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
    const lineStart = lineStarts[line] as number;
    if (lines?.[line]) {
      lines[line] = shiftLine(lines[line] as string, edit.start - lineStart, edit.end - lineStart, edit.text.length);
    }
  }
  return { code: out, mappings: lines?.join(';') };
}

/** One module's code with its external packages loaded through `require` (and its source map's mappings, shifted). */
export function requireExternals(code: string, mappings?: string): { code: string; mappings?: string } {
  const edits = editsOf(code);
  if (edits.length === 0) return { code, mappings };
  if (![STATIC_REQUIRE, DYNAMIC_REQUIRE].every((name) => new RegExp(`\\b${name}\\s*=`).test(code))) {
    throw new Error(`the module does not declare ${STATIC_REQUIRE} and ${DYNAMIC_REQUIRE}: is the house banner on it?`);
  }
  return applyEdits(code, mappings, edits);
}

/** Rewrites every `.mjs` file of an esbuild output folder in place, with its `.mjs.map` when there is one. */
export function requireExternalsInDir(dir: string): void {
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.mjs'))) {
    const file = join(dir, name);
    const mapFile = `${file}.map`;
    const code = readFileSync(file, 'utf8');
    const map = existsSync(mapFile) ? (JSON.parse(readFileSync(mapFile, 'utf8')) as { mappings: string }) : undefined;
    const out = requireExternals(code, map?.mappings);
    if (out.code === code) continue;
    writeFileSync(file, out.code);
    if (map && out.mappings !== undefined) writeFileSync(mapFile, JSON.stringify({ ...map, mappings: out.mappings }));
  }
}
