import { type AuditEvent, canonicalJson } from './audit.ts';

/**
 * The export formats of audit events. JSON Lines: one event per line, its fields in a fixed order and the objects
 * inside it (actor, target, details) in canonical order (keys sorted, as hashed): the same events export to the same
 * bytes however they were stored (a map's key order is DynamoDB's, a compressed `details` keeps its own). CSV (RFC 4180): a header, then one row per event; null is an
 * empty unquoted field, the empty string a quoted `""`, and `details` is canonical JSON, so every event can be rebuilt
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

export const jsonLine = (e: AuditEvent): string => {
  const fields: [string, unknown][] = [
    ['id', e.id],
    ['time', e.time],
    ['action', e.action],
    ['actor', e.actor],
    ['target', e.target],
    ['details', e.details],
    ['chain', e.chain],
    ['seq', e.seq],
    ['previousHash', e.previousHash],
    ['hash', e.hash],
  ];
  return `{${fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
    .join(',')}}\n`;
};

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
    canonicalJson(e.details),
    e.chain,
    e.seq,
    e.previousHash,
    e.hash,
  ]
    .map(field)
    .join(',')}\n`;

/** Where a CSV parse is: the text, the position in it and the line number there. */
interface CsvCursor {
  readonly text: string;
  i: number;
  line: number;
}

/** A quoted field (`""` is a quote; a newline inside counts as a line), the cursor past its closing quote. */
function readQuoted(c: CsvCursor, recordLine: number): string {
  let s = '';
  c.i++;
  for (;;) {
    if (c.i >= c.text.length) throw new Error(`line ${recordLine}: unterminated quoted field`);
    const ch = c.text[c.i] as string;
    if (ch === '"') {
      if (c.text[c.i + 1] !== '"') {
        c.i++;
        return s;
      }
      s += '"';
      c.i += 2;
      continue;
    }
    if (ch === '\n') c.line++;
    s += ch;
    c.i++;
  }
}

/** An unquoted field up to the next separator or line end; null when empty. */
function readBare(c: CsvCursor): string | null {
  let j = c.i;
  while (j < c.text.length && c.text[j] !== ',' && c.text[j] !== '\n' && c.text[j] !== '\r') j++;
  const value = j === c.i ? null : c.text.slice(c.i, j);
  c.i = j;
  return value;
}

/** Steps over what ends a field: true after a comma (another field follows), false at the end of the record. */
function nextField(c: CsvCursor): boolean {
  if (c.text[c.i] === ',') {
    c.i++;
    return true;
  }
  if (c.text[c.i] === '\r') c.i++;
  if (c.text[c.i] === '\n') {
    c.i++;
    c.line++;
  }
  return false;
}

/** CSV records with their first line number; a field is null when empty and unquoted. */
export function* parseCsv(text: string): Generator<{ line: number; fields: (string | null)[] }> {
  const c: CsvCursor = { text, i: 0, line: 1 };
  while (c.i < text.length) {
    const start = c.line;
    const fields: (string | null)[] = [];
    do fields.push(text[c.i] === '"' ? readQuoted(c, start) : readBare(c));
    while (nextField(c));
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
