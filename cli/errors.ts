/**
 * Exit codes scripts can rely on, and the errors that carry them. Every failure the CLI knows about ends
 * as one line on stderr and one of these codes; anything else is a bug, reported as one line too.
 */
import { printable } from './text.ts';

export const EXIT = {
  /** Done. For `check`: the access is allowed. */
  ok: 0,
  /** The API refused or failed (problem+json), could not be reached, or `check` found no access. */
  failed: 1,
  /** The command line is wrong (unknown command or option, missing argument, bad duration). */
  usage: 2,
  /** No usable credentials: not logged in, token expired and not renewable, or the API answered 401. */
  unauthenticated: 3,
  /** `--wait` ended without the grant: the request was denied, timed out, canceled or failed. */
  notGranted: 4,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A problem+json answer of the API (RFC 9457), or the closest we can make of a non-problem error answer. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code: string;
  errors?: { path: string; message: string }[];
}

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    // A message may quote the API, the identity provider or the network: never a raw control character.
    super(printable(message));
  }
}

export class UsageError extends CliError {
  constructor(
    message: string,
    /** The command whose usage line to print under the message. */
    readonly command?: string,
  ) {
    super(message, EXIT.usage);
  }
}

export class NotLoggedIn extends CliError {
  constructor(message = 'not logged in: run `elevate login` (or pass --token / set ELEVATE_TOKEN)') {
    super(message, EXIT.unauthenticated);
  }
}

export class ApiError extends CliError {
  constructor(readonly problem: Problem) {
    super(problemLine(problem), problem.status === 401 ? EXIT.unauthenticated : EXIT.failed);
  }
}

/** `code: detail (path: message; ...)`: the one line a problem is shown as. */
export function problemLine(p: Problem): string {
  const detail = p.detail ?? p.title ?? `HTTP ${p.status}`;
  const fields = p.errors?.length ? ` (${p.errors.map((e) => `${e.path || '(body)'}: ${e.message}`).join('; ')})` : '';
  return `${p.code}: ${detail}${fields}`;
}
