import * as z from 'zod';
import { IsoDateTime } from './primitives.ts';

/**
 * An audit export: the events of [from, to) as one gzip object in S3, with a manifest in the export chain
 * (shared/usecases/exports.ts, docs/audit.md).
 */
export const AuditExportFormat = z.enum(['jsonl', 'csv']);
export type AuditExportFormat = z.infer<typeof AuditExportFormat>;

export const AuditExportStatus = z
  .enum(['Pending', 'Running', 'Completed', 'Failed'])
  .describe('Running: a run of the export job holds it (its lease outlasts the job function timeout)');
export type AuditExportStatus = z.infer<typeof AuditExportStatus>;

export const AuditExportInput = z.strictObject({
  from: IsoDateTime,
  to: IsoDateTime,
  format: AuditExportFormat.default('jsonl'),
});
export type AuditExportInput = z.infer<typeof AuditExportInput>;

/** An export as the API shows it. */
export const AuditExport = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  format: AuditExportFormat,
  status: AuditExportStatus,
  createdAt: z.string(),
  createdBy: z.string(),
  recordCount: z.int().nullable(),
  objectKey: z.string().nullable(),
  sha256: z.string().nullable(),
  manifestKey: z.string().nullable(),
  previousManifestSha256: z.string().nullable(),
  error: z.string().nullable(),
  continuedBy: z
    .string()
    .nullable()
    .describe(
      'When one run could not export the whole range in its time: the export that continues it from `to` ' +
        '(this export then covers [from, to) only)',
    ),
  downloadUrl: z.string().nullable().describe('A presigned S3 GET of the object, valid 15 minutes'),
});
export type AuditExport = z.infer<typeof AuditExport>;

/** An export as stored: what the API shows (less the download URL, made per read) and what only its runs need. */
export const AuditExportRecord = AuditExport.omit({ downloadUrl: true }).extend({
  /** The run that holds the export while Running, and until when (past the function timeout). */
  owner: z.string().nullable(),
  leaseUntil: z.string().nullable(),
  completedAt: z.string().nullable(),
  /** The SHA-256 of this export's manifest (the next manifest names it). */
  manifestSha256: z.string().nullable(),
  version: z.int(),
});
export type AuditExportRecord = z.infer<typeof AuditExportRecord>;
