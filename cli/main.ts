/**
 * `elevate`: the command line of the Elevate API. It talks only to the HTTP API (and, for `login --local`,
 * to the local runtime's POST /_local/token). Every failure ends as one line on stderr and a documented
 * exit code (see errors.ts); never a stack trace, unless ELEVATE_DEBUG is set.
 */
import pkg from '../package.json' with { type: 'json' };
import {
  type Command,
  type Context,
  commandHelp,
  GLOBAL_OPTIONS,
  optionLines,
  parseCommand,
  splitCommand,
  str,
} from './args.ts';
import { ApiClient, TokenSource } from './client.ts';
import { activate, check, deactivate, extend, roles } from './commands/access.ts';
import { auditDownload, auditEvents, auditExport, auditExports } from './commands/audit.ts';
import { login, logout, whoami } from './commands/auth.ts';
import { policyApply, policyExport, policyPlan } from './commands/policy.ts';
import { approvals, approve, cancel, deny, requests } from './commands/requests.ts';
import { reviewDecide, reviews } from './commands/reviews.ts';
import { scopes } from './commands/scopes.ts';
import { configDir, jwtClaims, normalizeUrl, type Settings, Store } from './config.ts';
import { CliError, EXIT, NotLoggedIn, UsageError } from './errors.ts';
import { EXIT_CODES_HELP, makeOutput, paint } from './output.ts';
import { printable } from './text.ts';

export const COMMANDS: Command[] = [
  login,
  logout,
  whoami,
  roles,
  activate,
  deactivate,
  extend,
  requests,
  approvals,
  approve,
  deny,
  cancel,
  check,
  scopes,
  reviews,
  reviewDecide,
  auditEvents,
  auditExport,
  auditExports,
  auditDownload,
  policyPlan,
  policyApply,
  policyExport,
];

const GROUPS = new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0] as string));

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: elevate COMMAND [options]',
    '',
    'Just-in-time privileged access from a terminal: activate roles, approve requests, check access.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '      --version    print the version',
    '',
    'Environment: ELEVATE_API, ELEVATE_TOKEN, ELEVATE_ISSUER, ELEVATE_CLIENT_ID, NO_COLOR, XDG_CONFIG_HOME.',
    `Config and token cache: ${configDir()}`,
    '',
    EXIT_CODES_HELP,
    '',
    'Run `elevate COMMAND --help` for the options of a command.',
    '',
  ].join('\n');
}

function groupHelp(group: string): string {
  const subs = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  const width = Math.max(...subs.map((c) => c.name.length));
  return [
    `Usage: elevate ${group} SUBCOMMAND [options]`,
    '',
    ...subs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run \`elevate ${group} SUBCOMMAND --help\` for its options.`,
    '',
  ].join('\n');
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const json = argv.includes('--json');
  const out = makeOutput({ json, env });
  let current: string | undefined;
  const fail = (error: unknown): number => {
    if (error instanceof CliError) {
      out.note(`${paint(out.errColor, 'red', 'elevate:')} ${error.message}`);
      if (error instanceof UsageError) {
        const cmd = COMMANDS.find((c) => c.name === (error.command ?? current));
        out.note(cmd ? `usage: elevate ${cmd.name} ${cmd.usage}  (see --help)` : 'see `elevate --help`');
      }
      if (json) {
        const problem =
          error instanceof UsageError
            ? { code: 'UsageError', detail: error.message }
            : 'problem' in error
              ? (error as { problem: unknown }).problem
              : { code: error instanceof NotLoggedIn ? 'NotLoggedIn' : 'CliError', detail: error.message };
        out.data({ error: problem, exitCode: error.exitCode });
      }
      return error.exitCode;
    }
    out.note(`elevate: unexpected error: ${printable(error instanceof Error ? error.message : String(error))}`);
    if (env.ELEVATE_DEBUG && error instanceof Error) out.note(error.stack ?? '');
    return EXIT.failed;
  };

  try {
    const { words, rest } = splitCommand(argv, (w) => GROUPS.has(w));
    if (words.length === 0) {
      if (rest.includes('--version')) {
        out.stdout.write(`${pkg.version}\n`);
        return EXIT.ok;
      }
      if (rest.includes('--help') || rest.includes('-h') || rest.length === 0) {
        out.stdout.write(mainHelp());
        return rest.length === 0 ? EXIT.usage : EXIT.ok;
      }
      throw new UsageError('no command given');
    }
    const name = words.join(' ');
    if (words[0] === 'help') {
      const topic = argv
        .slice(argv.indexOf('help') + 1)
        .filter((a) => !a.startsWith('-'))
        .join(' ');
      const cmd = COMMANDS.find((c) => c.name === topic);
      out.stdout.write(cmd ? commandHelp(cmd) : GROUPS.has(topic) ? groupHelp(topic) : mainHelp());
      return EXIT.ok;
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) {
      if (GROUPS.has(name)) {
        if (rest.includes('--help') || rest.includes('-h')) {
          out.stdout.write(groupHelp(name));
          return EXIT.ok;
        }
        throw new UsageError(
          `'${name}' needs a subcommand: ${groupHelp(name)
            .split('\n')
            .slice(2, -3)
            .map((l) => l.trim().split(/\s{2,}/)[0])
            .join(', ')}`,
        );
      }
      throw new UsageError(`unknown command '${name}'`);
    }
    current = cmd.name;
    const { values, positionals } = parseCommand(cmd, rest);
    if (values.help) {
      out.stdout.write(commandHelp(cmd));
      return EXIT.ok;
    }
    const store = new Store(configDir(env));
    const settings: Settings = await store.readSettings();
    const api = str(values.api);
    const token = str(values.token);
    let client: ApiClient | undefined;
    const apiUrl = () => {
      const url = api ?? (env.ELEVATE_API || undefined) ?? settings.api;
      if (!url) {
        // Never logged in (no API and no token anywhere): exit 3, as for any other missing credentials.
        if (cmd.name !== 'login' && token === undefined && !env.ELEVATE_TOKEN) {
          throw new NotLoggedIn(
            'not logged in: run `elevate login --api URL` (or `elevate login --local`), or pass --api and --token',
          );
        }
        throw new UsageError('no API configured: pass --api URL, set ELEVATE_API, or `elevate login --api URL`');
      }
      if (!/^https?:\/\//.test(url))
        throw new UsageError(`the API URL must start with http:// or https:// (got '${url}')`);
      return normalizeUrl(url);
    };
    const tokens = () => new TokenSource(apiUrl(), store, token ?? (env.ELEVATE_TOKEN || undefined));
    const ctx: Context = {
      out,
      env,
      store,
      settings,
      globals: { ...(api !== undefined && { api }), ...(token !== undefined && { token }), json },
      apiUrl,
      client: () => {
        client ??= new ApiClient(apiUrl(), tokens(), !json);
        return client;
      },
      rawClient: () => new ApiClient(apiUrl(), tokens(), false),
      subject: async () => {
        const sub = jwtClaims(await tokens().token())?.sub;
        if (typeof sub !== 'string') throw new NotLoggedIn('the token is not a JWT with a sub claim: log in again');
        return sub;
      },
    };
    return await cmd.run(ctx, values, positionals);
  } catch (error) {
    return fail(error);
  }
}

const exitCode = await main(process.argv.slice(2));
// Let stdout drain (a pipe may still hold the JSON document), then leave with the code.
process.exitCode = exitCode;
