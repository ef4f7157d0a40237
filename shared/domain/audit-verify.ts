import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { AuditEvent } from './audit.ts';
import { verifyEvents } from './audit-chain.ts';
import { eventOfCsv, parseCsv } from './audit-format.ts';

/**
 * The export verifier (npm run audit:verify): given export objects (`*.jsonl.gz`, `*.csv.gz`) and manifests
 * (`*.manifest.json`) by name, checks every event's hash and the links of each chain inside each object, each
 * object against its manifest (SHA-256, record count, first and last event hash, per-chain summary), and the chain
 * of manifests (each names the SHA-256 of the one before). Every problem names the file and the line or event.
 */
export interface ExportFile {
  name: string;
  bytes: Buffer;
}

export interface VerifyReport {
  ok: boolean;
  problems: string[];
  notes: string[];
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const base = (name: string) => name.split('/').pop() as string;

function eventsOf(file: ExportFile, problems: string[]): { event: AuditEvent; at: string }[] {
  let text: string;
  try {
    text = gunzipSync(file.bytes).toString('utf8');
  } catch {
    problems.push(`${file.name}: not a gzip file`);
    return [];
  }
  const out: { event: AuditEvent; at: string }[] = [];
  if (file.name.endsWith('.csv.gz')) {
    let header = true;
    try {
      for (const row of parseCsv(text)) {
        if (header) {
          header = false;
          continue;
        }
        try {
          out.push({ event: eventOfCsv(row.fields), at: `${file.name}:${row.line}` });
        } catch (error) {
          problems.push(`${file.name}:${row.line}: unreadable row (${(error as Error).message})`);
        }
      }
    } catch (error) {
      problems.push(`${file.name}: ${(error as Error).message}`);
    }
  } else {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      try {
        out.push({ event: JSON.parse(line) as AuditEvent, at: `${file.name}:${i + 1}` });
      } catch {
        problems.push(`${file.name}:${i + 1}: not JSON`);
      }
    });
  }
  return out;
}

type ManifestEntry = { file: ExportFile; sha256: string; body: Record<string, unknown> };

export function verifyExports(files: readonly ExportFile[]): VerifyReport {
  const problems: string[] = [];
  const notes: string[] = [];
  const objects = new Map(files.filter((f) => !f.name.endsWith('.manifest.json')).map((f) => [base(f.name), f]));
  const manifests = files.filter((f) => f.name.endsWith('.manifest.json'));
  const checked = new Set<string>();

  const manifestByKey = new Map<string, ManifestEntry>();
  for (const file of manifests) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(file.bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      problems.push(`${file.name}: the manifest is not JSON`);
      continue;
    }
    const key = String(body.objectKey ?? '').replace(/\.(jsonl|csv)\.gz$/, '.manifest.json');
    manifestByKey.set(key, { file, sha256: sha(file.bytes), body });
    const object = objects.get(base(String(body.objectKey)));
    if (!object) {
      notes.push(`${file.name}: its object ${body.objectKey} was not given; only the manifest chain is checked`);
      continue;
    }
    checked.add(base(object.name));
    checkObject(object, file, body, problems);
  }
  for (const [name, object] of objects) {
    if (checked.has(name)) continue;
    notes.push(`${object.name}: no manifest given; its events are checked alone`);
    const { breaks } = verifyEvents(eventsOf(object, problems));
    for (const b of breaks) problems.push(`${b.at}: event ${b.eventId} (chain ${b.chain}): ${b.problem}`);
  }
  checkManifestChain(manifestByKey, problems, notes);
  return { ok: problems.length === 0, problems, notes };
}

/** An object against its manifest: its hash, its count, its first and last events, its chains. */
function checkObject(object: ExportFile, manifest: ExportFile, body: Record<string, unknown>, problems: string[]) {
  const where = `${object.name} (manifest ${manifest.name})`;
  if (sha(object.bytes) !== body.sha256) {
    problems.push(`${where}: SHA-256 of the object is ${sha(object.bytes)}, the manifest says ${body.sha256}`);
  }
  const events = eventsOf(object, problems);
  if (events.length !== body.recordCount) {
    problems.push(`${where}: ${events.length} events, the manifest says ${body.recordCount}`);
  }
  if ((events[0]?.event.hash ?? null) !== body.firstEventHash) {
    problems.push(`${where}: first event hash ${events[0]?.event.hash ?? null} ≠ manifest ${body.firstEventHash}`);
  }
  if ((events.at(-1)?.event.hash ?? null) !== body.lastEventHash) {
    problems.push(`${where}: last event hash ${events.at(-1)?.event.hash ?? null} ≠ manifest ${body.lastEventHash}`);
  }
  const { breaks, chains } = verifyEvents(events);
  for (const b of breaks) problems.push(`${b.at}: event ${b.eventId} (chain ${b.chain}): ${b.problem}`);
  const listed = JSON.stringify(body.chains ?? []);
  if (JSON.stringify(chains) !== listed) {
    problems.push(`${where}: the chains in the object ${JSON.stringify(chains)} differ from the manifest's ${listed}`);
  }
}

/** The chain of manifests: each one's previous must be the manifest it names, unchanged. */
function checkManifestChain(manifestByKey: Map<string, ManifestEntry>, problems: string[], notes: string[]) {
  const shas = new Set([...manifestByKey.values()].map((m) => m.sha256));
  for (const m of manifestByKey.values()) {
    const prevKey = m.body.previousManifestKey as string | null;
    const prevSha = m.body.previousManifestSha256 as string | null;
    if (prevKey === null || prevKey === undefined) continue;
    const prev = manifestByKey.get(prevKey);
    if (!prev) {
      if (!shas.has(String(prevSha))) notes.push(`${m.file.name}: its previous manifest ${prevKey} was not given`);
      continue;
    }
    if (prev.sha256 !== prevSha) {
      problems.push(
        `${prev.file.name}: SHA-256 is ${prev.sha256}, but the next manifest ${m.file.name} recorded ${prevSha}: ` +
          'this manifest was altered or replaced',
      );
    }
  }
}
