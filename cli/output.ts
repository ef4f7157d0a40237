/**
 * Everything the CLI prints goes through here: human text on a TTY with colours (never with --json, NO_COLOR
 * or TERM=dumb), one JSON document on stdout with --json, and diagnostics on stderr.
 */
import { EXIT } from './errors.ts';
import { safeJson } from './text.ts';

export interface Output {
  readonly json: boolean;
  /** Colours on stdout / stderr. */
  readonly color: boolean;
  readonly errColor: boolean;
  /** stdout / stderr are terminals (live lines, progress bars). */
  readonly tty: boolean;
  readonly errTty: boolean;
  /** A line of human output on stdout (dropped with --json). */
  line(text?: string): void;
  /** The single JSON document of a --json run. */
  data(value: unknown): void;
  /** A note on stderr (kept with --json: it is not part of the document). */
  note(text: string): void;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

export function makeOutput(opts: { json: boolean; env?: NodeJS.ProcessEnv }): Output {
  const env = opts.env ?? process.env;
  const stdout = process.stdout;
  const stderr = process.stderr;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== '';
  const allowed = !opts.json && !env.NO_COLOR && env.TERM !== 'dumb';
  return {
    json: opts.json,
    color: allowed && (stdout.isTTY === true || forced),
    errColor: allowed && (stderr.isTTY === true || forced),
    tty: stdout.isTTY === true,
    errTty: stderr.isTTY === true,
    line: (text = '') => {
      if (!opts.json) stdout.write(`${text}\n`);
    },
    data: (value) => {
      if (opts.json) stdout.write(`${safeJson(value)}\n`);
    },
    note: (text) => {
      stderr.write(`${text}\n`);
    },
    stdout,
    stderr,
  };
}

const codes = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] };
export type Style = keyof typeof codes;

export function paint(on: boolean, style: Style, text: string): string {
  if (!on) return text;
  const [open, close] = codes[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

const ESC = String.fromCharCode(27);
const visibleLength = (s: string) =>
  s.split(ESC).reduce((n, part, i) => n + (i === 0 ? part.length : part.replace(/^\[\d+m/, '').length), 0);

/** Left-aligned columns; the header is bold on colour. */
export function table(color: boolean, header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [paint(color, 'bold', fmt(header)), ...rows.map(fmt)];
}

const STATUS_STYLE: Record<string, Style> = {
  Granted: 'green',
  Active: 'green',
  Approved: 'green',
  Completed: 'green',
  allowed: 'green',
  PendingApproval: 'yellow',
  Pending: 'yellow',
  Scheduled: 'cyan',
  Denied: 'red',
  TimedOut: 'red',
  Failed: 'red',
  Canceled: 'dim',
  Revoked: 'dim',
  Expired: 'dim',
};
export const status = (color: boolean, s: string): string => {
  const style = STATUS_STYLE[s];
  return style ? paint(color, style, s) : s;
};

/** `2026-11-26 12:00Z` */
export function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** `1h 59m` for a span of milliseconds (`<1m` under a minute). */
export function span(ms: number): string {
  if (ms < 60_000) return '<1m';
  const minutes = Math.floor(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean).join(' ') || '0m';
}

/** How far the server's clock is ahead of this machine's (ms), from the last `Date` header the API sent. */
let serverOffsetMs = 0;

/**
 * Records the server's clock from an HTTP `Date` header (RFC 9110: when the answer was made, to the second): the
 * time left of an assignment is the server's to decide, whatever this machine's clock says.
 */
export function observeServerDate(header: string | null | undefined, localNow = Date.now()): void {
  const at = header ? Date.parse(header) : Number.NaN;
  if (Number.isFinite(at)) serverOffsetMs = at - localNow;
}

/** Now by the server's clock, as last seen (this machine's clock until the API has answered once). */
export function serverNow(localNow = Date.now()): number {
  return localNow + serverOffsetMs;
}

/** `until 2026-11-26 12:00Z (1h 59m left)`, `permanent`, or `ended 2026-...`; left by the server's clock. */
export function until(end: string | null | undefined, now = serverNow()): string {
  if (end === null || end === undefined) return 'permanent';
  const left = new Date(end).getTime() - now;
  return left > 0 ? `until ${when(end)} (${span(left)} left)` : `ended ${when(end)}`;
}

/** Exit codes as a --help section, one place for all commands. */
export const EXIT_CODES_HELP = `Exit codes:
  ${EXIT.ok}  done (check: allowed)
  ${EXIT.failed}  the API refused or failed, or could not be reached (check: not allowed)
  ${EXIT.usage}  usage error (unknown command or option, missing argument)
  ${EXIT.unauthenticated}  not logged in, or the token was refused (401)
  ${EXIT.notGranted}  --wait ended without the grant (Denied, TimedOut, Canceled or Failed)`;
