import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Deps } from '../deps.ts';
import { type AuditEvent, SYSTEM_ACTOR } from '../domain/audit.ts';
import { dayOf } from '../domain/audit-chain.ts';
import { csvHeader, csvRow, jsonLine } from '../domain/audit-format.ts';
import { DomainError, invalid, notFound } from '../domain/errors.ts';
import { errorFields, log } from '../http/log.ts';
import { newId } from '../ids.ts';
import type { ExportJobs, ObjectStore } from '../ports/objects.ts';
import { LambdaExportJobs, S3ObjectStore } from '../ports/objects.ts';
import { type AuditExportRecord, ExportHeadMoved, keys, monthOf, ops, queries, strip } from '../store/records.ts';
import type { Page } from '../store/store.ts';
import { monthsBetween } from './audit.ts';
import { auditEvent, type Ctx } from './context.ts';

/**
 * Audit exports to S3. POST writes a Pending export and its `export.created` event in one transaction, then
 * starts the job (an asynchronous invoke of the audit-export function); the daily schedule exports the previous
 * UTC day the same way. The job streams the events of [from, to) out of DynamoDB (one month partition after
 * another, oldest first), through gzip, into a multipart upload, hashing the bytes on the way; then writes the
 * manifest, which names the SHA-256 of the previous manifest (a head item, updated under a condition, keeps the
 * chain of manifests), and completes the export.
 */
export type ExportFormat = 'jsonl' | 'csv';

export interface ExportView {
  id: string;
  from: string;
  to: string;
  format: ExportFormat;
  status: AuditExportRecord['status'];
  createdAt: string;
  createdBy: string;
  recordCount: number | null;
  objectKey: string | null;
  sha256: string | null;
  manifestKey: string | null;
  previousManifestSha256: string | null;
  error: string | null;
  downloadUrl: string | null;
}

export const DOWNLOAD_URL_SECONDS = 15 * 60;
const MAX_RANGE_DAYS = 366;

export interface ExportPorts {
  objects: ObjectStore;
  jobs: ExportJobs;
}

let ports: ExportPorts | undefined;
const built = new Map<string, ExportPorts>();

/**
 * The ports from the environment (AUDIT_BUCKET, EXPORT_FUNCTION_NAME and the S3 endpoint), built once per setting
 * (the local tests run several runtimes, each with its own S3, in one process); tests may replace them.
 */
export function exportPorts(deps: Deps): ExportPorts {
  if (ports) return ports;
  const { auditBucket, exportFunctionName } = deps.config;
  const key = `${auditBucket}|${exportFunctionName}|${process.env.AWS_ENDPOINT_URL_S3 ?? ''}`;
  const found = built.get(key);
  if (found) return found;
  const made: ExportPorts = {
    objects: auditBucket
      ? new S3ObjectStore(auditBucket)
      : {
          upload: missing('AUDIT_BUCKET'),
          put: missing('AUDIT_BUCKET'),
          presignGet: missing('AUDIT_BUCKET'),
        },
    jobs: exportFunctionName ? new LambdaExportJobs(exportFunctionName) : { start: missing('EXPORT_FUNCTION_NAME') },
  };
  built.set(key, made);
  return made;
}

export function useExportPorts(next: ExportPorts | undefined): void {
  ports = next;
}

const missing = (name: string) => async (): Promise<never> => {
  throw new Error(`${name} is not set: audit exports are not configured`);
};

const objectKeyOf = (r: Pick<AuditExportRecord, 'id' | 'from' | 'format'>, suffix: string): string =>
  `audit/${r.from.slice(0, 4)}/${r.from.slice(5, 7)}/${r.from.slice(8, 10)}/${r.id}${suffix}`;

async function view(deps: Deps, r: AuditExportRecord): Promise<ExportView> {
  const { version: _v, manifestSha256: _m, completedAt: _c, ...rest } = r;
  const downloadUrl =
    r.status === 'Completed' && r.objectKey
      ? await exportPorts(deps).objects.presignGet(r.objectKey, DOWNLOAD_URL_SECONDS)
      : null;
  return { ...rest, downloadUrl };
}

/** A new export record, Pending. */
export function newExport(id: string, from: string, to: string, format: ExportFormat, at: Date, by: string) {
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
    version: 1,
  };
  return record;
}

/** POST /v1/audit-exports: a Pending export, then its job is started. */
export async function createAuditExport(
  ctx: Ctx,
  input: { from: string; to: string; format: ExportFormat },
): Promise<ExportView> {
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
    ...ctx.remember(202, body),
  ]);
  await startExportJob(ctx.deps, record.id);
  return body;
}

/**
 * Starts the export job after the record committed. Retried; a failure is logged and never fails the call:
 * the reconcile job starts again any export still Pending after a few minutes (restartStaleExports).
 */
export async function startExportJob(deps: Deps, exportId: string): Promise<boolean> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await exportPorts(deps).jobs.start(exportId);
      return true;
    } catch (error) {
      if (attempt === 3) {
        log('error', 'could not start the export job; the reconcile job will', { exportId, ...errorFields(error) });
        return false;
      }
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
  return false;
}

/** Exports still Pending some minutes after they were asked for (their job never ran or died): start them again. */
export async function restartStaleExports(deps: Deps, olderThanMs = 5 * 60_000): Promise<number> {
  const now = deps.clock.now().getTime();
  let restarted = 0;
  for await (const item of deps.store.stream(queries.exports())) {
    const record = strip<AuditExportRecord>(item);
    const age = now - Date.parse(record.createdAt);
    if (age > 7 * 86_400_000) break; // newest first: older ones were settled long ago
    if (record.status === 'Pending' && age > olderThanMs && (await startExportJob(deps, record.id))) restarted++;
  }
  return restarted;
}

export async function getAuditExport(ctx: Ctx, id: string): Promise<ExportView> {
  const item = await ctx.store.get(keys.auditExport(id));
  if (!item) throw notFound(`export '${id}'`);
  return view(ctx.deps, strip<AuditExportRecord>(item));
}

export async function listAuditExports(
  ctx: Ctx,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<ExportView>> {
  const out = await ctx.store.page([queries.exports()], { ...page, map: (item) => strip<AuditExportRecord>(item) });
  return { items: await Promise.all(out.items.map((r) => view(ctx.deps, r))), nextToken: out.nextToken };
}

/** The daily schedule: a Pending export of the previous UTC day (once per day), run at once. */
export async function dailyAuditExport(deps: Deps): Promise<{ exportId: string | null }> {
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
  await runAuditExport(deps, record.id);
  return { exportId: record.id };
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
  format: ExportFormat;
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

/** The job: streams the events to S3, writes the manifest, completes the export (or marks it Failed). */
export async function runAuditExport(deps: Deps, exportId: string, objects = exportPorts(deps).objects) {
  const item = await deps.store.get(keys.auditExport(exportId));
  if (!item) throw notFound(`export '${exportId}'`);
  const record = strip<AuditExportRecord>(item);
  if (record.status !== 'Pending') return record;
  try {
    return await run(deps, record, objects);
  } catch (error) {
    const failed: AuditExportRecord = {
      ...record,
      status: 'Failed',
      error: error instanceof Error ? error.message.slice(0, 500) : String(error),
      completedAt: deps.clock.now().toISOString(),
      version: record.version + 1,
    };
    await deps.store.transact([
      ops.updateExport(failed, record.version),
      ops.audit(auditEvent(deps.clock.now(), SYSTEM_ACTOR, 'export.failed', {}, { exportId, error: failed.error })),
    ]);
    return failed;
  }
}

async function run(deps: Deps, record: AuditExportRecord, objects: ObjectStore): Promise<AuditExportRecord> {
  const objectKey = objectKeyOf(record, record.format === 'csv' ? '.csv.gz' : '.jsonl.gz');
  const manifestKey = objectKeyOf(record, '.manifest.json');
  const chains = new Map<string, ChainInfo>();
  let recordCount = 0;
  let firstEventHash: string | null = null;
  let lastEventHash: string | null = null;

  async function* lines(): AsyncGenerator<string> {
    if (record.format === 'csv') yield csvHeader();
    const months = monthsBetween(record.from, record.to).reverse();
    for (const month of months) {
      if (month < monthOf(record.from)) continue;
      for await (const raw of deps.store.stream(queries.auditForward(month, record.from, record.to))) {
        const e = strip<AuditEvent>(raw);
        if (e.time >= record.to) continue;
        recordCount++;
        firstEventHash ??= e.hash;
        lastEventHash = e.hash;
        if (e.chain !== undefined && e.seq !== undefined) {
          const c = chains.get(e.chain);
          if (!c)
            chains.set(e.chain, {
              chain: e.chain,
              firstSeq: e.seq,
              lastSeq: e.seq,
              firstHash: e.hash,
              lastHash: e.hash,
              count: 1,
            });
          else {
            // Events sort by time; a chain's seq order can differ within it (commit order), so keep min and max.
            if (e.seq < c.firstSeq) Object.assign(c, { firstSeq: e.seq, firstHash: e.hash });
            if (e.seq > c.lastSeq) Object.assign(c, { lastSeq: e.seq, lastHash: e.hash });
            c.count++;
          }
        }
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
    pipeline(Readable.from(lines()), createGzip(), tap, body),
    objects.upload(objectKey, body, 'application/gzip'),
  ]);
  const sha256 = hash.digest('hex');

  for (let attempt = 1; ; attempt++) {
    const head = await deps.store.get(keys.exportHead());
    const manifest: Manifest = {
      version: 1,
      exportId: record.id,
      format: record.format,
      from: record.from,
      to: record.to,
      createdAt: record.createdAt,
      recordCount,
      objectKey,
      bytes,
      sha256,
      firstEventHash,
      lastEventHash,
      chains: [...chains.values()].sort((a, b) => (a.chain < b.chain ? -1 : 1)),
      previousManifestKey: head ? String(head.manifestKey) : null,
      previousManifestSha256: head ? String(head.manifestSha256) : null,
    };
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    const manifestSha256 = createHash('sha256').update(text).digest('hex');
    await objects.put(manifestKey, text, 'application/json');
    const now = deps.clock.now();
    const done: AuditExportRecord = {
      ...record,
      status: 'Completed',
      completedAt: now.toISOString(),
      recordCount,
      objectKey,
      sha256,
      manifestKey,
      manifestSha256,
      previousManifestSha256: manifest.previousManifestSha256,
      version: record.version + 1,
    };
    try {
      await deps.store.transact([
        ops.updateExport(done, record.version),
        ops.exportHead(
          { manifestSha256, manifestKey, seq: (head ? Number(head.seq) : 0) + 1 },
          head ? Number(head.seq) : null,
        ),
        ops.audit(
          auditEvent(
            now,
            SYSTEM_ACTOR,
            'export.completed',
            {},
            { exportId: record.id, recordCount, sha256, manifestSha256 },
          ),
        ),
      ]);
      return done;
    } catch (error) {
      // Another export completed first: chain after it (the manifest is written again with the new previous).
      if (!(error instanceof ExportHeadMoved) || attempt >= 8) throw error;
    }
  }
}
