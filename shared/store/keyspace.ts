import { type IndexName, TABLE } from './table.ts';

/**
 * Entities and their access patterns, each declared once (the way ElectroDB declares them): a pattern names an
 * index (none: the table's own key) and a template for its partition and sort keys, e.g.
 * `{ index: 'gsi1', pk: 'ROLEASG#{roleId}', sk: '{createdAt}#{id}' }`. From that one declaration come the keys
 * an item is written with, the keys a get or delete uses, the queries that find it, and the key table of
 * docs/data-model.md (test/unit/key-declarations.test.ts checks all four agree).
 *
 * A template is literal text with `{field}` placeholders. A field's value is the record's attribute of that name,
 * or what the entity's `fields` derive from the record (a principal as `<type>#<id>`, an open end as the end of
 * time). A query gives the partition's fields, and for its sort condition the leading fields it knows: the
 * condition is the template up to the first field it does not give (`LIVE#{roleId}#{type}#{scope}` with a role
 * only: `begins_with LIVE#<role>#`). A field TypeScript cannot find in a template is a compile error, and a value
 * that is missing when a key is built throws: neither becomes a silently empty query.
 */
export type Item = Record<string, unknown>;

/** The `{field}` names of a template (of a union of templates: all of them). */
export type FieldsOf<T extends string> = T extends `${string}{${infer F}}${infer Rest}` ? F | FieldsOf<Rest> : never;
/** The values of a template's fields. */
export type Values<T extends string> = { [F in FieldsOf<T>]: string };

/** One access pattern of an entity: where its items sit in the table or an index. */
export interface Pattern<R> {
  /** The global secondary index; absent: the table's own key. */
  readonly index?: IndexName;
  readonly pk: string;
  readonly sk: string;
  /** A sparse index: the item is in it only when this holds. @default - always */
  readonly when?: (r: R) => boolean;
  /** What the pattern serves (the doc table's note). */
  readonly doc?: string;
}

/** Query shapes: a partition (base table or index) and an optional sort-key condition. */
export interface QueryPart {
  index?: IndexName;
  pk: string;
  beginsWith?: string;
  between?: [string, string];
  /** Newest/highest first when false. @default true */
  forward?: boolean;
}

/** The sort-key condition of a query, in terms of the pattern's sort template. */
export interface SortCondition<S extends string> {
  /** Sort keys starting with the template filled up to the first field not given here. */
  beginsWith?: Partial<Values<S>>;
  /** The last field given in `beginsWith` is only the start of the value (`LIVE#elevate-`: every elevate-* role). */
  open?: boolean;
  /** Sort keys in [lo, hi], each after the template's leading literal text. */
  between?: [string, string];
  forward?: boolean;
}

export const ATTR = {
  pk: TABLE.partitionKey,
  sk: TABLE.sortKey,
  ttl: TABLE.timeToLiveAttribute,
} as const;

export const INDEX_ATTRS: Record<IndexName, { pk: string; sk: string }> = Object.fromEntries(
  TABLE.globalSecondaryIndexes.map((g) => [g.indexName, { pk: g.partitionKey, sk: g.sortKey }]),
) as Record<IndexName, { pk: string; sk: string }>;

/** The key attributes of a pattern: the table's pk/sk or its index's. */
export const attrsOf = (index: IndexName | undefined): { pk: string; sk: string } =>
  index ? INDEX_ATTRS[index] : { pk: ATTR.pk, sk: ATTR.sk };

/** The table key of one item. */
export type TableKey = Record<(typeof ATTR)['pk'] | (typeof ATTR)['sk'], string>;

/** Every attribute that positions an item (never part of a record). */
export const KEY_ATTRS: ReadonlySet<string> = new Set<string>([
  ATTR.pk,
  ATTR.sk,
  ATTR.ttl,
  'entity',
  ...Object.values(INDEX_ATTRS).flatMap((a) => [a.pk, a.sk]),
]);

/** A template cut into literal text and fields: `text[0] {fields[0]} text[1] ... {fields[n-1]} text[n]`. */
export interface Parsed {
  readonly text: readonly string[];
  readonly fields: readonly string[];
}

/** Templates already parsed: they are the key recipes' constants, a few dozen, and keyFields reads one per item. */
const PARSED = new Map<string, Parsed>();

export function parseTemplate(template: string): Parsed {
  const known = PARSED.get(template);
  if (known) return known;
  const parsed = parseAnew(template);
  PARSED.set(template, parsed);
  return parsed;
}

function parseAnew(template: string): Parsed {
  const text: string[] = [];
  const fields: string[] = [];
  let rest = template;
  for (let m = /\{([A-Za-z0-9_]+)\}/.exec(rest); m; m = /\{([A-Za-z0-9_]+)\}/.exec(rest)) {
    text.push(rest.slice(0, m.index));
    fields.push(m[1] as string);
    rest = rest.slice(m.index + m[0].length);
  }
  text.push(rest);
  if (text.some((t) => t.includes('{') || t.includes('}'))) throw new Error(`bad key template '${template}'`);
  return { text, fields };
}

/** The template's text with every field filled (a missing value throws: a key is never built half-empty). */
function fill(template: string, p: Parsed, value: (field: string) => unknown): string {
  let out = p.text[0] as string;
  p.fields.forEach((f, i) => {
    const v = value(f);
    if (typeof v !== 'string')
      throw new Error(`key '${template}': field '${f}' is ${v === undefined ? 'missing' : typeof v}`);
    out += v + (p.text[i + 1] as string);
  });
  return out;
}

/** The start of the template up to the first field not in `values` (the last one given left open with `open`). */
function prefix(p: Parsed, values: Record<string, unknown>, open: boolean): string {
  let out = p.text[0] as string;
  for (let i = 0; i < p.fields.length; i++) {
    const v = values[p.fields[i] as string];
    if (v === undefined) return out;
    if (typeof v !== 'string') throw new Error(`field '${p.fields[i]}' is ${typeof v}`);
    const last = i === p.fields.length - 1 || values[p.fields[i + 1] as string] === undefined;
    out += v + (open && last ? '' : (p.text[i + 1] as string));
    if (open && last) return out;
  }
  return out;
}

/**
 * The fields of a pattern's key as a stored item holds it (`{ chain }` of `AUDIT#2026-05-01#3`), or undefined when
 * the item is not in the pattern's index (a sparse one) or its key does not match the template. A field takes the
 * text up to the first occurrence of the literal text after it (the last one the rest).
 */
export function keyFields(p: Pattern<never>, item: Item): Record<string, string> | undefined {
  const attrs = attrsOf(p.index);
  const out: Record<string, string> = {};
  for (const [template, attr] of [
    [p.pk, attrs.pk],
    [p.sk, attrs.sk],
  ] as const) {
    const value = item[attr];
    if (typeof value !== 'string') return undefined;
    const t = parseTemplate(template);
    if (!value.startsWith(t.text[0] as string)) return undefined;
    let at = (t.text[0] as string).length;
    for (let i = 0; i < t.fields.length; i++) {
      const after = t.text[i + 1] as string;
      const end = after === '' && i === t.fields.length - 1 ? value.length : value.indexOf(after, at);
      if (end < 0) return undefined;
      out[t.fields[i] as string] = value.slice(at, end);
      at = end + after.length;
    }
    if (at !== value.length) return undefined;
  }
  return out;
}

export interface EntityDecl<R, P extends Record<string, Pattern<R>>> {
  /** The `entity` attribute of its items. */
  readonly name: string;
  /** One line for the doc table. */
  readonly doc: string;
  /** `primary` is the table's own key; each other pattern an index it is in. */
  readonly patterns: P;
  /** Fields the templates use that are not attributes of the record, derived from it. */
  readonly fields?: Readonly<Record<string, (r: R) => string | null | undefined>>;
  /** The attributes every stored record has, and their types (checked by `fromItem`). */
  readonly shape?: Readonly<Record<string, AttrType>>;
  /**
   * How a record is stored when not attribute for attribute (the audit events, compacted: audit-item.ts): the
   * attributes beside the keys `item` writes, and the record `fromItem` reads back from an item's attributes
   * (`attrs`, without its key attributes) and its keys (`item`, whole). @default - the record's own attributes
   */
  readonly codec?: {
    readonly encode: (r: R) => Item;
    readonly decode: (attrs: Item, item: Item) => R;
  };
  /**
   * Attributes an item carries beside its record, written by guard updates (records.ts `ops.activationStands`): never
   * part of the record (`fromItem` leaves them off), read with records.ts `guardsOf`.
   */
  readonly beside?: (attr: string) => boolean;
}

/** The type of a stored attribute, as `fromItem` checks it (`?`: may be absent or null). */
export type AttrType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'string?' | 'number?' | 'object?';

/** An item that is not what the recipe that read it expects: a bug or a corrupt table, never a user error. */
export class CorruptItem extends Error {}

function typeOk(v: unknown, t: AttrType): boolean {
  const base = t.endsWith('?') ? t.slice(0, -1) : t;
  if (t.endsWith('?') && (v === undefined || v === null)) return true;
  if (base === 'array') return Array.isArray(v);
  if (base === 'object') return typeof v === 'object' && v !== null && !Array.isArray(v);
  return typeof v === base;
}

/** What the doc table and the declaration tests read of any entity. */
export interface EntityInfo {
  readonly name: string;
  readonly doc: string;
  readonly patterns: Readonly<Record<string, Pattern<never>>>;
}

/** One kind of stored item: its key recipes (one per access pattern) and how a record is read back. */
export class Entity<R, P extends Record<string, Pattern<R>> & { primary: Pattern<R> }> implements EntityInfo {
  readonly name: string;
  readonly doc: string;
  readonly patterns: P;

  constructor(private readonly decl: EntityDecl<R, P>) {
    this.name = decl.name;
    this.doc = decl.doc;
    this.patterns = decl.patterns;
    if (decl.patterns.primary.index) throw new Error(`${decl.name}: the primary pattern is the table's own key`);
  }

  /**
   * A pattern's templates, parsed on first use (once per template: parseTemplate): a function declares some forty
   * entities at cold start and uses a few (bench/README.md, cold init). The templates are checked by the declaration
   * tests (key-declarations.test.ts).
   */
  private templates(name: keyof P): { pk: Parsed; sk: Parsed } {
    const p = Object.hasOwn(this.patterns, name) ? (this.patterns[name] as Pattern<R>) : undefined;
    if (!p) throw new Error(`${this.name} has no access pattern '${String(name)}'`);
    return { pk: parseTemplate(p.pk), sk: parseTemplate(p.sk) };
  }

  /** The table key of one item, from its primary fields (a get, a delete, an update, a condition check). */
  key(values: Values<P['primary']['pk'] | P['primary']['sk']>): TableKey {
    const { pk, sk } = this.templates('primary');
    const get = (f: string) => (values as Record<string, unknown>)[f];
    return { [ATTR.pk]: fill(this.patterns.primary.pk, pk, get), [ATTR.sk]: fill(this.patterns.primary.sk, sk, get) };
  }

  /** The key attributes of one pattern (its table key, or its index key: gsi1pk, gsi1sk) from its fields. */
  keyIn<N extends keyof P & string>(name: N, values: Values<P[N]['pk'] | P[N]['sk']>): Record<string, string> {
    const p = this.patterns[name] as Pattern<R>;
    const t = this.templates(name);
    const attrs = attrsOf(p.index);
    const get = (f: string) => (values as Record<string, unknown>)[f];
    return { [attrs.pk]: fill(p.pk, t.pk, get), [attrs.sk]: fill(p.sk, t.sk, get) };
  }

  /** The value of a template field for a record (`extra` first: key fields that are not stored attributes). */
  private valueOf(r: R, extra: Record<string, unknown> | undefined): (field: string) => unknown {
    return (f) => extra?.[f] ?? this.decl.fields?.[f]?.(r) ?? (r as Record<string, unknown>)[f];
  }

  /** The key attributes of one pattern for a record (its table key, or its index key: gsi1pk, gsi1sk). */
  keysOf(name: keyof P, r: R, extra?: Record<string, unknown>): Record<string, string> {
    const p = this.patterns[name] as Pattern<R>;
    const t = this.templates(name);
    const attrs = attrsOf(p.index);
    const value = this.valueOf(r, extra);
    return { [attrs.pk]: fill(p.pk, t.pk, value), [attrs.sk]: fill(p.sk, t.sk, value) };
  }

  /**
   * The whole item of a record: its table key, its key in each index it is in, `entity`, then the record.
   * `extra` gives the key fields that are not attributes of the record (a pending marker's slot).
   */
  item(r: R, extra?: Record<string, unknown>): Item {
    const item: Item = {};
    for (const name of Object.keys(this.patterns) as (keyof P)[]) {
      const p = this.patterns[name] as Pattern<R>;
      if (p.when && !p.when(r)) continue;
      Object.assign(item, this.keysOf(name, r, extra));
    }
    return { ...item, entity: this.name, ...(this.decl.codec ? this.decl.codec.encode(r) : r) };
  }

  /** A query of one pattern: its partition, and a sort condition in terms of its sort template. */
  query<N extends keyof P & string>(
    name: N,
    partition: Values<P[N]['pk']>,
    cond: SortCondition<P[N]['sk']> = {},
  ): QueryPart {
    const p = this.patterns[name] as Pattern<R>;
    const t = this.templates(name);
    const pk = fill(p.pk, t.pk, (f) => (partition as Record<string, unknown>)[f]);
    // The property order is part of a list cursor's fingerprint (a hash of the query's JSON): index, pk, condition.
    const q: QueryPart = p.index ? { index: p.index, pk } : { pk };
    if (cond.beginsWith) q.beginsWith = prefix(t.sk, cond.beginsWith, cond.open ?? false);
    if (cond.between) {
      const lead = t.sk.text[0] as string;
      q.between = [lead + cond.between[0], lead + cond.between[1]];
    }
    if (cond.forward !== undefined) q.forward = cond.forward;
    return q;
  }

  /**
   * The record of an item this entity's recipe found: checked to be of this entity and to have the attributes
   * every such record has, its key attributes taken off. (Bound: `items.map(entity.fromItem)`.)
   */
  readonly fromItem = (item: Item): R => {
    if (item.entity !== this.name) {
      throw new CorruptItem(`item ${item[ATTR.pk]}/${item[ATTR.sk]} is '${item.entity}', not '${this.name}'`);
    }
    const attrs: Item = {};
    const beside = this.decl.beside;
    for (const [k, v] of Object.entries(item)) if (!KEY_ATTRS.has(k) && !beside?.(k)) attrs[k] = v;
    const out = (this.decl.codec ? this.decl.codec.decode(attrs, item) : attrs) as Item;
    for (const [attr, type] of Object.entries(this.decl.shape ?? {})) {
      if (!typeOk(out[attr], type)) {
        throw new CorruptItem(`${this.name} ${item[ATTR.pk]}/${item[ATTR.sk]}: '${attr}' is not ${type}`);
      }
    }
    return out as R;
  };
}

/** Declares an entity of records R: `entity<RoleRecord>()({ name, doc, patterns: { primary: {...}, ... } })`. */
export const entity =
  <R>() =>
  <const P extends Record<string, Pattern<R>> & { primary: Pattern<R> }>(decl: EntityDecl<R, P>): Entity<R, P> =>
    new Entity(decl);

const shown = (template: string): string => `\`${template.replace(/\{([A-Za-z0-9_]+)\}/g, '<$1>')}\``;

/**
 * The key table of docs/data-model.md, generated from the declarations (`npm run keys:doc`): one row per
 * entity, its table key and its key in each index (`*`: sparse, only some items are in it).
 */
export function keyTable(entities: readonly EntityInfo[]): string {
  const indexes = TABLE.globalSecondaryIndexes.map((g) => g.indexName);
  const header = ['entity', 'pk', 'sk', ...indexes.map((i) => `${i} (pk / sk)`), 'what'];
  const rows = entities.map((e) => {
    const byIndex = new Map(Object.values(e.patterns).flatMap((p) => (p.index ? [[p.index, p] as const] : [])));
    const cell = (i: IndexName) => {
      const p = byIndex.get(i);
      return p ? `${shown(p.pk)} / ${shown(p.sk)}${p.when ? ' \\*' : ''}` : '';
    };
    const primary = e.patterns.primary as Pattern<never>;
    return [`\`${e.name}\``, shown(primary.pk), shown(primary.sk), ...indexes.map(cell), e.doc];
  });
  // Padded to the width of each column, as the formatter (biome) lays a Markdown table out.
  const widths = header.map((_, c) => Math.max(3, ...[header, ...rows].map((r) => (r[c] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c] as number)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const BEGIN = '<!-- keys:begin (generated by `npm run keys:doc` from shared/store/entities.ts) -->';
const END = '<!-- keys:end -->';

/** A document with its generated key table (between the markers) made current. */
export function withKeyTable(doc: string, entities: readonly EntityInfo[]): string {
  const from = doc.indexOf(BEGIN);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`the document has no '${BEGIN}' ... '${END}' section`);
  return `${doc.slice(0, from + BEGIN.length)}\n\n${keyTable(entities)}\n\n${doc.slice(to)}`;
}
