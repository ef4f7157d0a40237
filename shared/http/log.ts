/**
 * Structured logs, one JSON line each. Never a token, a body or an e-mail: callers are named by id only.
 * ELEVATE_LOG=debug adds one line per request; ELEVATE_LOG=silent keeps quiet (tests).
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  const threshold = ORDER[(process.env.ELEVATE_LOG as Level | 'silent' | undefined) ?? 'info'] ?? ORDER.info;
  if (ORDER[level] < threshold) return;
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
}

export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { error: error.name, message: error.message, stack: error.stack };
  return { error: String(error) };
}
