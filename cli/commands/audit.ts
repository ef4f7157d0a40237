/** audit events | export | exports | download: the audit log and its exports (admin or auditor). */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Command, Context, Values } from '../args.ts';
import { str, toIsoDuration, toMillis } from '../args.ts';
import { enc, type Page } from '../client.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { paint, span, status, table, when } from '../output.ts';
import type { AuditEvent, AuditExport } from '../types.ts';

/** `2026-11-25` → midnight UTC; a date-time as is; `24h` / `7d` → that long ago. */
export function toTime(text: string, option: string, now = Date.now()): string {
  if (/^\d{4}-\d\d-\d\d$/.test(text)) return `${text}T00:00:00Z`;
  if (/^\d{4}-\d\d-\d\dT/.test(text) && !Number.isNaN(new Date(text).getTime())) return text;
  const iso = (() => {
    try {
      return toIsoDuration(text, option);
    } catch {
      return undefined;
    }
  })();
  const m = iso && /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m)
    throw new UsageError(`${option} takes a date (2026-11-25), a date-time (2026-11-25T10:00:00Z) or an age (24h, 7d)`);
  const [, d = 0, h = 0, min = 0, s = 0] = m;
  const ms = ((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000;
  return new Date(now - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const timeOpt = (v: Values, k: string) => (str(v[k]) === undefined ? undefined : toTime(str(v[k]) as string, `--${k}`));

export const auditEvents: Command = {
  name: 'audit events',
  summary: 'the audit log, newest first',
  usage: '[--from T] [--to T] [--actor ID] [--principal ID] [--role ROLE] [--action A]',
  options: {
    from: { type: 'string', arg: 'TIME', description: 'from: 2026-11-25, 2026-11-25T10:00:00Z or an age (24h)' },
    to: { type: 'string', arg: 'TIME', description: 'to (same forms)' },
    actor: { type: 'string', arg: 'ID', description: 'who acted' },
    principal: { type: 'string', arg: 'ID', description: 'whose assignment' },
    role: { type: 'string', arg: 'ROLE', description: 'which role' },
    action: { type: 'string', arg: 'ACTION', description: 'a dotted action such as request.refused' },
    limit: { type: 'string', arg: 'N', description: 'at most N (1..200, default 50)' },
    'next-token': { type: 'string', arg: 'TOKEN', description: 'the page after this one' },
  },
  args: { min: 0, max: 0 },
  async run(ctx, v) {
    const page = await ctx.client().get<Page<AuditEvent>>('/v1/audit-events', {
      from: timeOpt(v, 'from'),
      to: timeOpt(v, 'to'),
      actorId: str(v.actor),
      principalId: str(v.principal),
      roleId: str(v.role),
      action: str(v.action),
      limit: str(v.limit),
      nextToken: str(v['next-token']),
    });
    ctx.out.data(page);
    if (ctx.out.json) return EXIT.ok;
    if (page.items.length === 0) {
      ctx.out.line('No audit events.');
      return EXIT.ok;
    }
    const c = ctx.out.color;
    const rows = page.items.map((e) => [
      when(e.time),
      e.action,
      e.actor.id,
      e.target.principalId ?? '',
      e.target.roleId ?? '',
      e.target.scope ?? '',
    ]);
    for (const l of table(c, ['TIME', 'ACTION', 'ACTOR', 'PRINCIPAL', 'ROLE', 'SCOPE'], rows)) ctx.out.line(l);
    if (page.nextToken) ctx.out.line(paint(c, 'dim', `more: --next-token ${page.nextToken}`));
    return EXIT.ok;
  },
};

/** Not finished yet: waiting for its job (Pending) or being written by it (Running). */
const unfinished = (e: AuditExport) => e.status === 'Pending' || e.status === 'Running';

async function waitForExport(ctx: Context, id: string, pollMs: number): Promise<AuditExport> {
  for (;;) {
    const e = await ctx.client().get<AuditExport>(`/v1/audit-exports/${enc(id)}`);
    if (!unfinished(e)) return e;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function printExport(ctx: Context, e: AuditExport): void {
  const c = ctx.out.color;
  ctx.out.line(
    `${e.id}  ${status(c, e.status)}  ${when(e.from)} → ${when(e.to)}  ${e.format}${
      typeof e.recordCount === 'number' ? `  ${e.recordCount} records` : ''
    }${e.objectKey ? `  ${e.objectKey}` : ''}${e.error ? `  (${e.error})` : ''}`,
  );
}

export const auditExport: Command = {
  name: 'audit export',
  summary: 'export the audit log of a period to S3 (then `audit download`)',
  usage: '--from T --to T [--format jsonl|csv] [--wait]',
  options: {
    from: { type: 'string', arg: 'TIME', description: 'from: 2026-11-25, 2026-11-25T10:00:00Z or an age (7d)' },
    to: { type: 'string', arg: 'TIME', description: 'to (default: now)' },
    format: { type: 'string', arg: 'FORMAT', description: 'jsonl (default) or csv' },
    wait: { type: 'boolean', short: 'w', description: 'wait until the export is Completed or Failed' },
    poll: { type: 'string', arg: 'SECONDS', description: 'with --wait: how often to ask (default 2)' },
  },
  args: { min: 0, max: 0 },
  examples: ['elevate audit export --from 2026-11-01 --to 2026-12-01 --format csv --wait'],
  async run(ctx, v) {
    const from = timeOpt(v, 'from');
    if (!from) throw new UsageError('--from is required', 'audit export');
    const to = timeOpt(v, 'to') ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const format = str(v.format) ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw new UsageError('--format is jsonl or csv', 'audit export');
    const pollMs = toMillis(str(v.poll) ?? '2', '--poll');
    let e = (await ctx.client().post<AuditExport>('/v1/audit-exports', { from, to, format })).body;
    if (v.wait) e = await waitForExport(ctx, e.id, pollMs);
    ctx.out.data(e);
    printExport(ctx, e);
    if (unfinished(e)) ctx.out.note(`Download when it is done: elevate audit download ${e.id}`);
    return e.status === 'Failed' ? EXIT.failed : EXIT.ok;
  },
};

export const auditExports: Command = {
  name: 'audit exports',
  summary: 'list audit exports',
  usage: '',
  options: { limit: { type: 'string', arg: 'N', description: 'at most N (1..200, default 50)' } },
  args: { min: 0, max: 0 },
  async run(ctx, v) {
    const page = await ctx.client().get<Page<AuditExport>>('/v1/audit-exports', { limit: str(v.limit) });
    ctx.out.data(page);
    if (page.items.length === 0) ctx.out.line('No audit exports.');
    for (const e of page.items) printExport(ctx, e);
    return EXIT.ok;
  },
};

const bytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;

export const auditDownload: Command = {
  name: 'audit download',
  summary: 'download a completed audit export to a file (progress bar on a terminal)',
  usage: 'EXPORT_ID [-o FILE] [--wait]',
  description: `Download the export's object through its presigned URL (valid 15 minutes) into FILE (default:
the object's name, e.g. <id>.jsonl.gz; "-" writes to stdout). The file is written under a temporary name
and renamed when complete; its SHA-256 is checked against the export's when the export records one.`,
  options: {
    output: { type: 'string', short: 'o', arg: 'FILE', description: 'where to write (default: the object name)' },
    wait: { type: 'boolean', short: 'w', description: 'wait for a Pending export to complete first' },
    poll: { type: 'string', arg: 'SECONDS', description: 'with --wait: how often to ask (default 2)' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, v, [id]) {
    let e = await ctx.client().get<AuditExport>(`/v1/audit-exports/${enc(id as string)}`);
    if (unfinished(e) && v.wait) e = await waitForExport(ctx, e.id, toMillis(str(v.poll) ?? '2', '--poll'));
    if (e.status !== 'Completed') {
      throw new CliError(`export ${e.id} is ${e.status}${unfinished(e) ? ': add --wait, or try again later' : ''}`);
    }
    if (!e.downloadUrl) throw new CliError(`export ${e.id} has no downloadUrl`);
    const target = str(v.output) ?? basename(e.objectKey ?? `${e.id}.${e.format}.gz`);
    const result = await download(ctx, e.downloadUrl, target);
    const matches = e.sha256 ? e.sha256.toLowerCase() === result.sha256 : null;
    ctx.out.data({
      export: e,
      file: target === '-' ? null : target,
      bytes: result.bytes,
      sha256: result.sha256,
      sha256Matches: matches,
    });
    if (target !== '-')
      ctx.out.line(
        `Saved ${target} (${bytes(result.bytes)}, sha256 ${result.sha256}${matches ? ', matches the export' : ''}).`,
      );
    if (matches === false) {
      throw new CliError(`the download's sha256 ${result.sha256} differs from the export's ${e.sha256}`);
    }
    return EXIT.ok;
  },
};

async function download(ctx: Context, url: string, target: string): Promise<{ bytes: number; sha256: string }> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (error) {
    throw new CliError(
      `cannot download the export: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`,
    );
  }
  if (!res.ok || !res.body) {
    throw new CliError(
      `the download answered ${res.status}${res.status === 403 ? ' (the presigned URL may have expired: run it again)' : ''}`,
    );
  }
  const total = Number(res.headers.get('content-length')) || 0;
  const toStdout = target === '-';
  const temp = `${target}.part`;
  const sink: NodeJS.WritableStream = toStdout ? ctx.out.stdout : createWriteStream(temp, { mode: 0o600 });
  const hash = createHash('sha256');
  const showProgress = ctx.out.errTty && !ctx.out.json;
  const started = Date.now();
  let done = 0;
  let last = 0;
  const progress = (final = false) => {
    if (!showProgress || (!final && Date.now() - last < 100)) return;
    last = Date.now();
    const width = 30;
    const ratio = total ? Math.min(1, done / total) : 0;
    const bar = total
      ? `[${'#'.repeat(Math.round(ratio * width)).padEnd(width, '.')}] ${Math.floor(ratio * 100)}%`
      : '';
    const rate = bytes(Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)));
    ctx.out.stderr.write(
      `\r\u001b[2K${bar} ${bytes(done)}${total ? ` of ${bytes(total)}` : ''}  ${rate}/s  ${span(Date.now() - started)}`,
    );
    if (final) ctx.out.stderr.write('\n');
  };
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      done += chunk.length;
      if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
      progress();
    }
    progress(true);
    if (!toStdout) {
      sink.end();
      await finished(sink);
      await rename(temp, target);
    }
  } catch (error) {
    if (!toStdout) await rm(temp, { force: true });
    throw new CliError(`the download failed: ${(error as Error).message}`);
  }
  return { bytes: done, sha256: hash.digest('hex') };
}
