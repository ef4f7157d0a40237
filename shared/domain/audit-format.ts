import type { AuditEvent } from './audit.ts';

/**
 * The export formats of audit events. JSON Lines: one event per line, the event as stored (its hash is over its
 * canonical form, so field order does not matter). CSV (RFC 4180): a header, then one row per event; null is an
 * empty unquoted field, the empty string a quoted `""`, and `details` is JSON, so every event can be rebuilt
 * exactly and its hash checked.
 */
export const CSV_COLUMNS = [
  'id',
  'time',
  'action',
  'actorId',
  'actorType',
  'principalId',
  'roleId',
  'scope',
  'assignmentId',
  'requestId',
  'details',
  'chain',
  'seq',
  'previousHash',
  'hash',
] as const;

export const jsonLine = (e: AuditEvent): string =>
  `${JSON.stringify({
    id: e.id,
    time: e.time,
    action: e.action,
    actor: e.actor,
    target: e.target,
    details: e.details,
    chain: e.chain,
    seq: e.seq,
    previousHash: e.previousHash,
    hash: e.hash,
  })}\n`;

const field = (v: string | number | null | undefined): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return s === '' || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\n`;

export const csvRow = (e: AuditEvent): string =>
  `${[
    e.id,
    e.time,
    e.action,
    e.actor.id,
    e.actor.type,
    e.target.principalId,
    e.target.roleId,
    e.target.scope,
    e.target.assignmentId,
    e.target.requestId,
    JSON.stringify(e.details),
    e.chain,
    e.seq,
    e.previousHash,
    e.hash,
  ]
    .map(field)
    .join(',')}\n`;

/** CSV records with their first line number; a field is null when empty and unquoted. */
export function* parseCsv(text: string): Generator<{ line: number; fields: (string | null)[] }> {
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: (string | null)[] = [];
    for (;;) {
      let value: string | null;
      if (text[i] === '"') {
        let s = '';
        i++;
        for (;;) {
          if (i >= text.length) throw new Error(`line ${start}: unterminated quoted field`);
          const c = text[i] as string;
          if (c === '"') {
            if (text[i + 1] === '"') {
              s += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          s += c;
          i++;
        }
        value = s;
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        value = j === i ? null : text.slice(i, j);
        i = j;
      }
      fields.push(value);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    yield { line: start, fields };
  }
}

/** The event of a CSV row (throws with what is wrong). */
export function eventOfCsv(fields: (string | null)[]): AuditEvent {
  if (fields.length !== CSV_COLUMNS.length) {
    throw new Error(`expected ${CSV_COLUMNS.length} fields, found ${fields.length}`);
  }
  const f = (name: (typeof CSV_COLUMNS)[number]) => fields[CSV_COLUMNS.indexOf(name)] ?? null;
  const seq = f('seq');
  return {
    id: f('id') ?? '',
    time: f('time') ?? '',
    action: f('action') ?? '',
    actor: { id: f('actorId') ?? '', type: f('actorType') as 'user' | 'system' },
    target: {
      principalId: f('principalId'),
      roleId: f('roleId'),
      scope: f('scope'),
      assignmentId: f('assignmentId'),
      requestId: f('requestId'),
    },
    details: JSON.parse(f('details') ?? '{}') as Record<string, unknown>,
    ...(f('chain') === null ? {} : { chain: f('chain') as string }),
    ...(seq === null ? {} : { seq: Number(seq) }),
    previousHash: f('previousHash'),
    hash: f('hash') ?? '',
  };
}
