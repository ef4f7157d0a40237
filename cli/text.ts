/**
 * Text from elsewhere shown in a terminal. Everything the API (or the identity provider, or the network) says
 * is someone else's text: a justification, a display name, a problem's detail. It is shown with the characters
 * a terminal would act on escaped, in tables, plain lines, errors and --json documents alike.
 */

/**
 * Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts a CSI/OSC sequence that can
 * clear the screen, recolour or retitle; CR and LF fake lines and rows), DEL, the bidirectional overrides,
 * embeddings, isolates and marks (they reorder what is shown), and the line and paragraph separators.
 */
const UNPRINTABLE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/gu;
/** UNPRINTABLE less the C0 controls, which JSON.stringify escapes in strings (and uses as layout outside them). */
const UNPRINTABLE_IN_JSON = /[\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const hex = (c: string, width: number) => (c.codePointAt(0) ?? 0).toString(16).padStart(width, '0');

/**
 * Text from elsewhere (the API, the identity provider, the network) made safe to show: every character of
 * UNPRINTABLE becomes a visible escape (`\n`, `\x1b`, `\u202e`). Idempotent: its output has none left.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => NAMED[c] ?? (c <= '\u00ff' ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/** printable() applied to every string (keys too) of a parsed JSON value. */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map(printableDeep) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k), printableDeep(v)])) as T;
  }
  return value;
}

/**
 * A --json document: the data as the API gave it (JSON.stringify already writes C0 controls as \u escapes),
 * with the rest of UNPRINTABLE written as \u escapes too, so the same data never reaches a terminal raw.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNPRINTABLE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
