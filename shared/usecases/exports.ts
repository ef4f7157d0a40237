import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Deps } from '../deps.ts';
import { type AuditEvent, SYSTEM_ACTOR } from '../domain/audit.ts';
import { dayOf, daysBetween } from '../domain/audit-chain.ts';
import type { AuditExport, AuditExportFormat } from '../domain/audit-export.ts';
import { csvHeader, csvRow, jsonLine } from '../domain/audit-format.ts';
import { DomainError, invalid, notFound } from '../domain/errors.ts';
import { newId } from '../ids.ts';
import { errorFields, log } from '../log.ts';
import type { ObjectStore } from '../ports/objects.ts';
import { policy, retry, retryOn } from '../retry.ts';
import {
  type AuditExportRecord,
  ExportClaimed,
  ExportHeadMoved,
  type Item,
  keys,
  ops,
  queries,
  stored,
} from '../store/records.ts';
import type { Page } from '../store/store.ts';
import { auditEvent, type CallContext } from './context.ts';

/**
 * Audit exports to S3. POST writes a Pending export and its `export.created` event in one transaction, then
 * starts the job (an asynchronous invoke of the audit-export function); the daily schedule exports the previous
 * UTC day the same way. A run first claims the export (Pending → Running, with its owner and a lease past the
 * function timeout): a second delivery of the invoke, or a restart by reconcile, finds it held and leaves it alone.
 * The run streams the events of [from, to) out of DynamoDB (day by day, the day's shard partitions merged oldest
 * first), through gzip, into a multipart upload, hashing the bytes on the way; then, holding the lock of the
 * manifest chain, creates the manifest (once: a conditional create), which names the SHA-256 of the previous
 * manifest, and completes the export. A run that nears its time budget stops between two instants, completes
 * the export up to there, and hands the rest of the range to a new export that continues it (`continuedBy`).
 */
export const DOWNLOAD_URL_SECONDS = 15 * 60;
const MAX_RANGE_DAYS = 366;
/** A claim holds the export past the function's 15-minute timeout: a run still alive always still owns it. */
export const EXPORT_LEASE_MS = 16 * 60_000;
/** A Pending export whose job has not claimed it this long after it was asked for is started again. */
const PENDING_RESTART_MS = 5 * 60_000;
/** Time kept back at the end of a run to finish the object, write the manifest and hand over the rest. */
const FINISH_RESERVE_MS = 60_000;
/** How long a run may hold the manifest chain's lock (it writes one small object meanwhile). */
const CHAIN_LOCK_MS = 60_000;
/** Waits for the manifest chain's lock while another run holds it: about 40 s in all, on average. */
const CHAIN_LOCK_WAIT = policy(45, 50, 2_000);

let override: Pick<Deps, 'objects' | 'exportJobs'> | undefined;

/** The object store and the job starter: the deps' own (built from the environment), unless a test replaced them. */
function exportPorts(deps: Deps): Pick<Deps, 'objects' | 'exportJobs'> {
  return override ?? deps;
}

/** Test hook: every export uses these ports instead of the deps' until called again with undefined. */
export function useExportPorts(next: { objects: ObjectStore; jobs: Deps['exportJobs'] } | undefined): void {
  override = next && { objects: next.objects, exportJobs: next.jobs };
}

/** Counts an event into its chain's entry of the manifest (its first and last seq and hash). */
function noteChain(chains: Map<string, ChainInfo>, e: AuditEvent): void {
  if (e.chain === undefined || e.seq === undefined) return;
  const c = chains.get(e.chain);
  if (!c) {
    chains.set(e.chain, {
      chain: e.chain,
      firstSeq: e.seq,
      lastSeq: e.seq,
      firstHash: e.hash,
      lastHash: e.hash,
      count: 1,
    });
    return;
  }
  // Events sort by time; a chain's seq order can differ within it (commit order), so keep min and max.
  if (e.seq < c.firstSeq) Object.assign(c, { firstSeq: e.seq, firstHash: e.hash });
  if (e.seq > c.lastSeq) Object.assign(c, { lastSeq: e.seq, lastHash: e.hash });
  c.count++;
}

const objectKeyOf = (r: Pick<AuditExportRecord, 'id' | 'from' | 'format'>, suffix: string): string =>
  `audit/${r.from.slice(0, 4)}/${r.from.slice(5, 7)}/${r.from.slice(8, 10)}/${r.id}${suffix}`;

async function view(deps: Deps, r: AuditExportRecord): Promise<AuditExport> {
  const { version: _v, manifestSha256: _m, completedAt: _c, owner: _o, leaseUntil: _l, ...rest } = r;
  const downloadUrl =
    r.status === 'Completed' && r.objectKey
      ? await exportPorts(deps).objects.presignGet(r.objectKey, DOWNLOAD_URL_SECONDS)
      : null;
  return { ...rest, downloadUrl };
}

/** A new export record, Pending. */
export function newExport(id: string, from: string, to: string, format: AuditExportFormat, at: Date, by: string) {
  const record: AuditExportRecord = {
    id,
    from,
    to,
    format,
    status: 'Pending',
    createdAt: at.toISOString(),
    createdBy: by,
    completedAt: null,
    recordCount: null,
    objectKey: null,
    sha256: null,
    manifestKey: null,
    manifestSha256: null,
    previousManifestSha256: null,
    error: null,
    owner: null,
    leaseUntil: null,
    continuedBy: null,
    version: 1,
  };
  return record;
}

/** POST /v1/audit-exports: a Pending export, then its job is started. */
export async function createAuditExport(
  ctx: CallContext,
  input: { from: string; to: string; format: AuditExportFormat },
): Promise<AuditExport> {
  const from = new Date(input.from).toISOString();
  const to = new Date(input.to).toISOString();
  if (from >= to) throw invalid('from must be before to', [{ path: 'from', message: 'must be before to' }]);
  if (to > ctx.now.toISOString())
    throw invalid('to is in the future', [{ path: 'to', message: 'must not be after now' }]);
  if (Date.parse(to) - Date.parse(from) > MAX_RANGE_DAYS * 86_400_000) {
    throw invalid(`a range is at most ${MAX_RANGE_DAYS} days`, [{ path: 'to', message: 'range too long' }]);
  }
  const record = newExport(newId('exp', ctx.now), from, to, input.format, ctx.now, ctx.caller.id);
  const body = await view(ctx.deps, record);
  await ctx.store.transact([
    ops.createExport(record),
    ctx.audit('export.created', {}, { exportId: record.id, from, to, format: record.format }),
    ...ctx.remember(body),
  ]);
  await startExportJob(ctx.deps, record.id);
  return body;
}

/**
 * Starts the export job after the record committed (its SDK client retries transport errors: retry.ts); a
 * failure is logged and never fails the call: the reconcile job starts again any export still Pending after a few
 * minutes (restartStaleExports).
 */
export async function startExportJob(deps: Deps, exportId: string): Promise<boolean> {
  try {
    await exportPorts(deps).exportJobs.start(exportId);
    return true;
  } catch (error) {
    log('error', 'could not start the export job; the reconcile job will', { exportId, ...errorFields(error) });
    return false;
  }
}

/**
 * Exports whose job never ran (Pending some minutes after they were asked for) or whose run died (Running past
 * its lease): start them again. A live run is never restarted (its lease lasts past the function timeout).
 */
export async function restartStaleExports(deps: Deps, timeLeft: () => number = () => Infinity): Promise<number> {
  const now = deps.clock.now().getTime();
  let restarted = 0;
  for await (const item of deps.store.stream(queries.exports())) {
    if (timeLeft() < 5_000) break;
    const record = stored.auditExport.fromItem(item);
    const age = now - Date.parse(record.createdAt);
    if (age > 7 * 86_400_000) break; // newest first: older ones were settled long ago
    const stale =
      (record.status === 'Pending' && age > PENDING_RESTART_MS) ||
      (record.status === 'Running' && record.leaseUntil !== null && Date.parse(record.leaseUntil) < now);
    if (stale && (await startExportJob(deps, record.id))) restarted++;
  }
  return restarted;
}

export async function getAuditExport(ctx: CallContext, id: string): Promise<AuditExport> {
  const item = await ctx.store.get(keys.auditExport(id));
  if (!item) throw notFound(`export '${id}'`);
  return view(ctx.deps, stored.auditExport.fromItem(item));
}

export async function listAuditExports(
  ctx: CallContext,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<AuditExport>> {
  const out = await ctx.store.page([queries.exports()], { ...page, map: (item) => stored.auditExport.fromItem(item) });
  return { items: await Promise.all(out.items.map((r) => view(ctx.deps, r))), nextToken: out.nextToken };
}

/** The daily schedule: a Pending export of the previous UTC day (once per day), run at once. */
export async function dailyAuditExport(
  deps: Deps,
  timeLeft: () => number = () => Infinity,
): Promise<{ exportId: string | null }> {
  const now = deps.clock.now();
  const today = new Date(`${dayOf(now.toISOString())}T00:00:00.000Z`);
  const from = new Date(today.getTime() - 86_400_000).toISOString();
  const record = newExport(newId('exp', now), from, today.toISOString(), 'jsonl', now, SYSTEM_ACTOR.id);
  const event = auditEvent(
    now,
    SYSTEM_ACTOR,
    'export.created',
    {},
    {
      exportId: record.id,
      from: record.from,
      to: record.to,
      format: record.format,
      daily: true,
    },
  );
  try {
    await deps.store.transact([
      ops.dailyExportMarker(dayOf(from), record.id),
      ops.createExport(record),
      ops.audit(event),
    ]);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'Conflict') return { exportId: null };
    throw error;
  }
  await runAuditExport(deps, record.id, { timeLeft });
  return { exportId: record.id };
}

export interface RunOptions {
  objects?: ObjectStore;
  /** Milliseconds left in this invocation (the Lambda's remaining time). @default no limit */
  timeLeft?: () => number;
}

/**
 * The job: claims the export, streams the events to S3, writes the manifest, completes the export (or marks it
 * Failed). An export held by another live run, or already done, is left alone and returned as read.
 */
export async function runAuditExport(deps: Deps, exportId: string, opts: RunOptions = {}) {
  const objects = opts.objects ?? exportPorts(deps).objects;
  const item = await deps.store.get(keys.auditExport(exportId));
  if (!item) throw notFound(`export '${exportId}'`);
  const seen = stored.auditExport.fromItem(item);
  const now = deps.clock.now();
  const leaseOver = seen.status === 'Running' && seen.leaseUntil !== null && seen.leaseUntil < now.toISOString();
  if (seen.status !== 'Pending' && !leaseOver) return seen;
  const owner = `run_${randomUUID()}`;
  try {
    await deps.store.transact([
      ops.claimExport(exportId, owner, now.toISOString(), new Date(now.getTime() + EXPORT_LEASE_MS).toISOString()),
      ops.audit(
        auditEvent(
          now,
          SYSTEM_ACTOR,
          'export.started',
          {},
          { exportId, run: owner, restarted: seen.status !== 'Pending' },
        ),
      ),
    ]);
  } catch (error) {
    if (error instanceof ExportClaimed) return seen;
    throw error;
  }
  const record = stored.auditExport.fromItem((await deps.store.get(keys.auditExport(exportId))) as Item);
  if (record.owner !== owner) return record;
  const chain = { locked: false };
  try {
    return await run(deps, record, objects, opts.timeLeft ?? (() => Infinity), chain);
  } catch (error) {
    if (error instanceof ExportClaimed) {
      log('warn', 'the export was claimed by another run meanwhile; this run stops', { exportId, owner });
      return record;
    }
    log('error', 'audit export failed', { exportId, ...errorFields(error) });
    const failed: AuditExportRecord = {
      ...record,
      status: 'Failed',
      error: error instanceof Error ? error.message.slice(0, 500) : String(error),
      completedAt: deps.clock.now().toISOString(),
      leaseUntil: null,
      version: record.version + 1,
    };
    try {
      await deps.store.transact([
        ops.updateExport(failed, record.version),
        ...(chain.locked ? [ops.releaseExportChain(owner)] : []),
        ops.audit(auditEvent(deps.clock.now(), SYSTEM_ACTOR, 'export.failed', {}, { exportId, error: failed.error })),
      ]);
    } catch (again) {
      // Another run holds it now (or the lock expired): that run records the outcome.
      if (!(again instanceof DomainError || again instanceof ExportHeadMoved)) throw again;
      return record;
    }
    return failed;
  }
}

interface ChainInfo {
  chain: string;
  firstSeq: number;
  lastSeq: number;
  firstHash: string;
  lastHash: string;
  count: number;
}

export interface Manifest {
  version: 1;
  exportId: string;
  format: AuditExportFormat;
  from: string;
  to: string;
  createdAt: string;
  recordCount: number;
  objectKey: string;
  bytes: number;
  sha256: string;
  firstEventHash: string | null;
  lastEventHash: string | null;
  chains: ChainInfo[];
  previousManifestKey: string | null;
  previousManifestSha256: string | null;
}

/** Events read per partition and Query while exporting (the next page of each is asked for at once). */
const EXPORT_PAGE = 1000;

async function run(
  deps: Deps,
  record: AuditExportRecord,
  objects: ObjectStore,
  timeLeft: () => number,
  chain: { locked: boolean },
): Promise<AuditExportRecord> {
  const owner = record.owner as string;
  const objectKey = objectKeyOf(record, record.format === 'csv' ? '.csv.gz' : '.jsonl.gz');
  const manifestKey = objectKeyOf(record, '.manifest.json');
  const chains = new Map<string, ChainInfo>();
  let recordCount = 0;
  let firstEventHash: string | null = null;
  let lastEventHash: string | null = null;
  /** Where this run stopped for lack of time: the rest, [cut, to), goes to a continuing export. */
  let cut: string | null = null;

  async function* lines(): AsyncGenerator<string> {
    if (record.format === 'csv') yield csvHeader();
    let lastTime: string | null = null;
    for (const day of daysBetween(record.from, record.to)) {
      const parts = queries.auditDay(day, record.from, record.to, true);
      for await (const raw of deps.store.merge(parts, { pageSize: EXPORT_PAGE, prefetch: true, windowMs: 60_000 })) {
        const e = stored.audit.fromItem(raw);
        if (e.time >= record.to) continue;
        // Out of time: stop between two instants (every event of lastTime is out), the rest is continued.
        if (lastTime !== null && e.time > lastTime && timeLeft() < FINISH_RESERVE_MS) {
          cut = e.time;
          return;
        }
        lastTime = e.time;
        recordCount++;
        firstEventHash ??= e.hash;
        lastEventHash = e.hash;
        noteChain(chains, e);
        yield record.format === 'csv' ? csvRow(e) : jsonLine(e);
      }
    }
  }

  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const body = new PassThrough();
  await Promise.all([
    pipeline(Readable.from(batched(lines())), createGzip(), tap, body),
    objects.upload(objectKey, body, 'application/gzip'),
  ]);
  const sha256 = hash.digest('hex');
  const to: string = cut ?? record.to;

  // The manifest chain: lock it (while still holding the export), read its head, create the manifest once.
  await lockChain(deps, record, owner);
  chain.locked = true;
  const item = await deps.store.get(keys.exportHead());
  const head = item && stored.exportHead.fromItem(item);
  const previous =
    head?.manifestKey && head.manifestSha256 ? { key: head.manifestKey, sha256: head.manifestSha256 } : null;
  const manifest: Manifest = {
    version: 1,
    exportId: record.id,
    format: record.format,
    from: record.from,
    to,
    createdAt: record.createdAt,
    recordCount,
    objectKey,
    bytes,
    sha256,
    firstEventHash,
    lastEventHash,
    chains: [...chains.values()].sort((a, b) => (a.chain < b.chain ? -1 : 1)),
    previousManifestKey: previous?.key ?? null,
    previousManifestSha256: previous?.sha256 ?? null,
  };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const manifestSha256 = createHash('sha256').update(text).digest('hex');
  if (!(await objects.create(manifestKey, text, 'application/json'))) {
    throw new Error(`the manifest ${manifestKey} was already written by an interrupted run; export the range again`);
  }
  const now = deps.clock.now();
  const rest = cut ? { ...newExport(newId('exp', now), cut, record.to, record.format, now, record.createdBy) } : null;
  const done: AuditExportRecord = {
    ...record,
    to,
    status: 'Completed',
    completedAt: now.toISOString(),
    recordCount,
    objectKey,
    sha256,
    manifestKey,
    manifestSha256,
    previousManifestSha256: manifest.previousManifestSha256,
    leaseUntil: null,
    continuedBy: rest?.id ?? null,
    version: record.version + 1,
  };
  const seq = head?.seq === undefined ? null : Number(head.seq);
  await deps.store.transact([
    ops.updateExport(done, record.version),
    ops.exportHead({ manifestSha256, manifestKey, seq: (seq ?? 0) + 1 }, seq, owner),
    ops.audit(
      auditEvent(
        now,
        SYSTEM_ACTOR,
        'export.completed',
        {},
        {
          exportId: record.id,
          recordCount,
          sha256,
          manifestSha256,
          ...(rest ? { to, continuedBy: rest.id } : {}),
        },
      ),
    ),
    ...(rest
      ? [
          ops.createExport(rest),
          ops.audit(
            auditEvent(
              now,
              SYSTEM_ACTOR,
              'export.created',
              {},
              {
                exportId: rest.id,
                from: rest.from,
                to: rest.to,
                format: rest.format,
                continues: record.id,
              },
            ),
          ),
        ]
      : []),
  ]);
  chain.locked = false;
  if (rest) await startExportJob(deps, rest.id);
  return done;
}

/** Takes the manifest chain's lock, while the run still holds its export; waits while another run holds it. */
async function lockChain(deps: Deps, record: AuditExportRecord, owner: string): Promise<void> {
  await retry(
    async () => {
      const now = deps.clock.now();
      await deps.store.transact([
        ops.exportHeld(record.id, record.version),
        ops.lockExportChain(owner, now.toISOString(), new Date(now.getTime() + CHAIN_LOCK_MS).toISOString()),
      ]);
    },
    retryOn(CHAIN_LOCK_WAIT, (e) => e instanceof ExportHeadMoved),
  );
}

/** Lines in strings of about 64 KiB: one stream chunk per many events, not one per event. */
async function* batched(source: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const line of source) {
    buffer += line;
    if (buffer.length >= 65_536) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}
