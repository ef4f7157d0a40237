/**
 * --wait: follow requests until they are decided. On a terminal, one live line per role, redrawn in place;
 * elsewhere (a pipe, a CI log) one new line each time a request changes status; with --json, silence.
 */
import type { Context } from './args.ts';
import { ApiError, CliError, EXIT } from './errors.ts';
import { paint } from './output.ts';
import type { AccessRequest } from './types.ts';

export interface Tracked {
  line(): string;
  /** Set for the requests to follow. */
  requestId?: string;
  update?(request: AccessRequest): void;
  done?(): boolean;
}

export async function waitForRequests(ctx: Context, tracked: Tracked[], pollMs: number): Promise<void> {
  const out = ctx.out;
  const live = out.tty && !out.json;
  const client = ctx.client();
  const following = tracked.filter((t) => t.requestId);
  const print = (lines: string[]) => {
    if (!out.json) out.stdout.write(lines.map((l) => `${l}\n`).join(''));
  };
  let drawn = 0;
  const redraw = () => {
    const lines = tracked.map((t) => t.line());
    out.stdout.write(`${drawn ? `\u001b[${drawn}A` : ''}${lines.map((l) => `\u001b[2K${l}\n`).join('')}`);
    drawn = lines.length;
  };
  if (live) redraw();
  else print(tracked.map((t) => t.line()));

  let interrupted = false;
  let wake: () => void = () => {};
  const onSigint = () => {
    interrupted = true;
    wake();
  };
  process.once('SIGINT', onSigint);
  let failures = 0;
  try {
    while (following.some((t) => !t.done?.())) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, pollMs);
      });
      if (interrupted) {
        const ids = following.filter((t) => !t.done?.()).map((t) => t.requestId);
        throw new CliError(
          `stopped waiting; still pending: ${ids.join(', ')} (see \`elevate requests\`, or \`elevate cancel ID\`)`,
          EXIT.interrupted,
        );
      }
      for (const t of following.filter((x) => !x.done?.())) {
        try {
          const before = t.line();
          t.update?.(await client.get<AccessRequest>(`/v1/requests/${encodeURIComponent(t.requestId as string)}`));
          failures = 0;
          if (!live && t.line() !== before) print([t.line()]);
        } catch (error) {
          if (error instanceof ApiError && [401, 403, 404].includes(error.problem.status)) throw error;
          if (++failures >= 5) throw error;
          if (!out.json) out.note(paint(out.errColor, 'dim', `(retrying: ${(error as Error).message})`));
        }
      }
      if (live) redraw();
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
