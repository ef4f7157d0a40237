/**
 * Command definitions, argument parsing (node:util parseArgs, strict) and generated --help.
 * Global options may come before or after the command.
 */
import { parseArgs } from 'node:util';
import type { ApiClient } from './client.ts';
import type { Settings, Store } from './config.ts';
import { UsageError } from './errors.ts';
import { EXIT_CODES_HELP, type Output } from './output.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in --help: `--for DURATION`. */
  arg?: string;
  description: string;
}
export type Options = Record<string, OptionSpec>;

export const GLOBAL_OPTIONS = {
  api: { type: 'string', arg: 'URL', description: 'the Elevate API (default: $ELEVATE_API, then the config)' },
  token: { type: 'string', arg: 'JWT', description: 'use this bearer token (default: $ELEVATE_TOKEN, then login)' },
  json: { type: 'boolean', description: 'print one JSON document on stdout (no colours, no live lines)' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
} satisfies Options;

export type Values = Record<string, string | boolean | undefined>;

export interface Context {
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
  readonly store: Store;
  readonly settings: Settings;
  readonly globals: { api?: string; token?: string; json: boolean };
  /** The API URL (throws a usage error when none is configured). */
  apiUrl(): string;
  /** A client of the API with the caller's token. */
  client(): ApiClient;
  /** A client whose answers are kept exactly as sent (no escaping for the terminal): for data compared or saved. */
  rawClient(): ApiClient;
  /** The caller's principal id (the token's sub). */
  subject(): Promise<string>;
}

export interface Command {
  /** `activate`, or `review decide` for a sub-command. */
  readonly name: string;
  readonly summary: string;
  /** Arguments after the name: `ROLE... [--scope S]`. */
  readonly usage: string;
  readonly description?: string;
  readonly options?: Options;
  readonly args: { min: number; max: number };
  readonly examples?: string[];
  run(ctx: Context, values: Values, positionals: string[]): Promise<number>;
}

export function optionLines(options: Options): string[] {
  const rows = Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ` ${o.arg}` : ''}`,
    o.description,
  ]);
  const width = Math.max(...rows.map((r) => r[0]?.length ?? 0));
  return rows.map(([a = '', b = '']) => `  ${a.padEnd(width)}  ${b}`);
}

export function commandHelp(cmd: Command): string {
  return [
    `Usage: elevate ${cmd.name}${cmd.usage ? ` ${cmd.usage}` : ''}`,
    '',
    cmd.description ?? cmd.summary,
    ...(cmd.options && Object.keys(cmd.options).length ? ['', 'Options:', ...optionLines(cmd.options)] : []),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    ...(cmd.examples?.length ? ['', 'Examples:', ...cmd.examples.map((e) => `  ${e}`)] : []),
    '',
    EXIT_CODES_HELP,
    '',
  ].join('\n');
}

/** Parse the arguments after the command name with the command's options plus the global ones. */
export function parseCommand(cmd: Command, argv: string[]): { values: Values; positionals: string[] } {
  const options: Options = { ...GLOBAL_OPTIONS, ...(cmd.options ?? {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [k, { type: o.type, ...(o.short && { short: o.short }) }]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs explains itself ("Unknown option '--x'"); drop its advice about '--' which does not apply here.
    const message = (error as Error).message.split('. To specify')[0] ?? String(error);
    throw new UsageError(message, cmd.name);
  }
  const values = parsed.values as Values;
  if (values.help) return { values, positionals: parsed.positionals };
  const n = parsed.positionals.length;
  if (n < cmd.args.min) throw new UsageError('missing argument(s)', cmd.name);
  if (n > cmd.args.max) {
    throw new UsageError(`unexpected argument '${parsed.positionals[cmd.args.max]}'`, cmd.name);
  }
  return { values, positionals: parsed.positionals };
}

/**
 * The leading command words of argv (`['review', 'decide']`), skipping global options and their values,
 * and the rest of argv with those words removed.
 */
export function splitCommand(argv: string[], isGroup: (word: string) => boolean): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (arg.startsWith('-')) {
      rest.push(arg);
      const name = arg.replace(/^--?/, '');
      const spec = (GLOBAL_OPTIONS as Options)[name];
      if (spec?.type === 'string' && !arg.includes('=') && i + 1 < argv.length) rest.push(argv[++i] as string);
      continue;
    }
    words.push(arg);
    if (!(words.length === 1 && isGroup(arg))) {
      i++;
      break;
    }
  }
  return { words, rest: [...rest, ...argv.slice(i)] };
}

// ---- values ----------------------------------------------------------------------------------------

/**
 * `2h`, `30m`, `1h30m`, `1d`, `90s` (or an ISO 8601 duration as is) → ISO 8601 (`PT2H`, `PT1H30M`, `P1D`).
 */
export function toIsoDuration(text: string, option = '--for'): string {
  const t = text.trim();
  if (/^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/i.test(t)) return t.toUpperCase();
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/i.exec(t);
  if (!m || t === '' || !m.slice(1).some(Boolean) || m.slice(1).every((v) => !v || Number(v) === 0)) {
    throw new UsageError(`${option} takes a duration such as 2h, 30m, 1h30m or 1d (got '${text}')`);
  }
  const [, d, h, min, s] = m;
  const time = `${h ? `${Number(h)}H` : ''}${min ? `${Number(min)}M` : ''}${s ? `${Number(s)}S` : ''}`;
  return `P${d ? `${Number(d)}D` : ''}${time ? `T${time}` : ''}`;
}

/** Seconds (decimals allowed) or a duration such as 2s / 500ms, in milliseconds. */
export function toMillis(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${option} takes a number of seconds such as 2 or 0.5 (got '${text}')`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

/** `jira:OPS-1` → `{ system: 'jira', number: 'OPS-1' }`. */
export function toTicket(text: string): { system: string; number: string } {
  const at = text.indexOf(':');
  const system = text.slice(0, at).trim();
  const number = text.slice(at + 1).trim();
  if (at < 0 || !system || !number)
    throw new UsageError(`--ticket takes SYSTEM:NUMBER such as jira:OPS-1 (got '${text}')`);
  return { system, number };
}

export const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
