import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONTRACT, type OperationContract, successStatus } from '#shared/api/contract.ts';
import { ROUTES } from '#shared/api/routes.ts';
import { canonicalJson, eventHash } from '#shared/domain/audit.ts';
import { buildOpenApi } from '#shared/http/openapi.ts';
import { decodeCursor, encodeCursor, type PartBounds } from '#shared/store/pagination.ts';

describe('the published contract', () => {
  it('is the checked-in docs/openapi.json (run `npm run openapi` after changing a schema)', () => {
    const checkedIn = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(buildOpenApi());
  });

  it('stays under 100 KB, each named schema written once under components and referenced with $ref', () => {
    // Prepare
    const file = new URL('../../docs/openapi.json', import.meta.url);
    const doc = buildOpenApi() as { components: { schemas: Record<string, unknown> }; paths: unknown };
    const text = JSON.stringify(doc);
    const bodies = Object.entries(doc.components.schemas).map(([name, schema]) => [name, JSON.stringify(schema)]);

    // Assess
    expect(statSync(file).size).toBeLessThan(100_000);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Role', 'RolePolicy', 'Request', 'Principal', 'Group', 'Alert', 'AuditExport']),
    );
    // No operation or schema carries its own copy of a named one: no local $defs, no named body written out again.
    expect(text).not.toContain('$defs');
    const paths = JSON.stringify(doc.paths);
    const copied = bodies.filter(
      ([name, body = '']) =>
        paths.includes(body) || bodies.some(([other, b = '']) => other !== name && b !== body && b.includes(body)),
    );
    expect(copied.map(([name]) => name)).toEqual([]);
  });

  it('is a valid document: every $ref resolves, and every component is referenced', () => {
    // Prepare
    const doc = buildOpenApi();
    const refs = new Set<string>();
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref') refs.add(x as string);
          else walk(x);
        }
      }
    };
    walk(doc);
    const resolve = (ref: string) =>
      ref
        .slice(2)
        .split('/')
        .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
        .reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], doc);

    // Assess
    expect([...refs].filter((ref) => !ref.startsWith('#/') || resolve(ref) === undefined)).toEqual([]);
    const components = doc.components as Record<string, Record<string, unknown>>;
    const unused = Object.entries(components)
      .filter(([kind]) => kind !== 'securitySchemes')
      .flatMap(([kind, entries]) => Object.keys(entries).map((name) => `#/components/${kind}/${name}`))
      .filter((ref) => !refs.has(ref));
    expect(unused).toEqual([]);
    expect(doc.openapi).toBe('3.1.0');
  });

  it("gives each operation's success status once, in its contract: 201 for a create, 202 for an export, 204 for a delete", () => {
    // Act
    const statuses = Object.fromEntries(
      Object.entries(CONTRACT).map(([operationId, c]) => [operationId, successStatus(c as OperationContract)]),
    );

    // Assess
    expect(statuses).toMatchObject({
      createRole: 201,
      createGroup: 201,
      createAccessReview: 201,
      createAuditExport: 202,
      deleteRole: 204,
      // a request decided at once is 201 and one waiting for approval 202: the use case says which
      createRequest: 200,
      updateRole: 200,
      getRole: 200,
    });
    const idempotent = Object.entries(CONTRACT).filter(([, c]) => (c as OperationContract).idempotent);
    expect(idempotent.map(([id]) => id).sort()).toEqual([
      'createAccessReview',
      'createAuditExport',
      'createGroup',
      'createRequest',
      'createRole',
    ]);
  });

  it('has a contract for every route and a route for every contract', () => {
    expect(new Set(ROUTES.map((r) => r.operationId))).toEqual(new Set(Object.keys(CONTRACT)));
  });

  it('rejects unknown fields in every body, query and path (strict objects all the way down)', () => {
    type Def = {
      type: string;
      catchall?: { _zod: { def: Def } };
      shape?: Record<string, { _zod: { def: Def } }>;
      innerType?: { _zod: { def: Def } };
      element?: { _zod: { def: Def } };
      options?: { _zod: { def: Def } }[];
    };
    const loose: string[] = [];
    const walk = (def: Def, path: string) => {
      if (def.type === 'object') {
        if (def.catchall?._zod.def.type !== 'never') loose.push(path);
        for (const [k, v] of Object.entries(def.shape ?? {})) walk(v._zod.def, `${path}.${k}`);
      }
      if (def.innerType) walk(def.innerType._zod.def, path);
      if (def.element) walk(def.element._zod.def, `${path}[]`);
      for (const o of def.options ?? []) walk(o._zod.def, path);
    };
    for (const [operationId, c] of Object.entries(CONTRACT)) {
      for (const part of ['body', 'query', 'params'] as const) {
        const schema = (c as unknown as Record<string, { _zod: { def: Def } } | undefined>)[part];
        if (schema) walk(schema._zod.def, `${operationId}.${part}`);
      }
    }
    expect(loose).toEqual([]);
  });
});

describe('bundle hygiene', () => {
  it("imports zod as a namespace everywhere, so each Lambda bundles only the zod it uses (not all of zod's locales)", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts') && /import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*'zod'/.test(readFileSync(path, 'utf8')))
          offenders.push(path);
      }
    };
    for (const dir of ['shared', 'functions']) walk(fileURLToPath(new URL(`../../${dir}`, import.meta.url)));
    expect(offenders).toEqual([]);
  });
});

describe('list cursors', () => {
  const parts: PartBounds[] = [
    { attrs: ['pk', 'sk'], partitionAttr: 'pk', partition: 'AUDIT#2026-10', sortAttr: 'sk' },
    { attrs: ['pk', 'sk'], partitionAttr: 'pk', partition: 'AUDIT#2026-11', sortAttr: 'sk', beginsWith: 'EVT#' },
    {
      attrs: ['pk', 'sk', 'gsi1pk', 'gsi1sk'],
      partitionAttr: 'gsi1pk',
      partition: 'ROLE#ops',
      sortAttr: 'gsi1sk',
      between: ['2026-11-01', '2026-11-30'],
    },
  ];
  const partOf = (p: number) => parts[p];
  const forged = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

  it('round-trip, and refuse a token of another query or a forged one', () => {
    const token = encodeCursor('q1', 1, { pk: 'AUDIT#2026-11', sk: 'EVT#x' });
    expect(decodeCursor(token, 'q1', partOf)).toEqual({ part: 1, key: { pk: 'AUDIT#2026-11', sk: 'EVT#x' } });
    expect(decodeCursor(encodeCursor('q1', 0, null), 'q1', partOf)).toEqual({ part: 0, key: null });
    expect(() => decodeCursor(token, 'q2', partOf)).toThrow(/not a token this list gave out/);
    expect(() => decodeCursor('not-base64-json', 'q1', partOf)).toThrow(/not a token/);
  });

  it('refuses, as ValidationFailed, every start key that is not one of the part it names', () => {
    const key = { pk: 'r', sk: 's', gsi1pk: 'ROLE#ops', gsi1sk: '2026-11-02' };
    expect(decodeCursor(forged({ v: 1, q: 'q', p: 2, k: key }), 'q', partOf).key).toEqual(key);
    const refused: [string, unknown][] = [
      ['a missing sort key', { v: 1, q: 'q', p: 0, k: { pk: 'AUDIT#2026-10' } }],
      ['another partition', { v: 1, q: 'q', p: 0, k: { pk: 'AUDIT#2026-11', sk: 'x' } }],
      ['a sort key outside begins_with', { v: 1, q: 'q', p: 1, k: { pk: 'AUDIT#2026-11', sk: 'ROLE#x' } }],
      ['a sort key outside between', { v: 1, q: 'q', p: 2, k: { ...key, gsi1sk: '2027-01-01' } }],
      ['the table key for an index', { v: 1, q: 'q', p: 2, k: { pk: 'ROLE#ops', sk: '2026-11-02' } }],
      ['an extra attribute', { v: 1, q: 'q', p: 0, k: { pk: 'AUDIT#2026-10', sk: 'x', gsi1pk: 'y' } }],
      ['an empty value', { v: 1, q: 'q', p: 0, k: { pk: 'AUDIT#2026-10', sk: '' } }],
      ['a number', { v: 1, q: 'q', p: 0, k: { pk: 'AUDIT#2026-10', sk: 1 } }],
      ['an oversized value', { v: 1, q: 'q', p: 0, k: { pk: 'AUDIT#2026-10', sk: 'x'.repeat(1025) } }],
      ['an array key', { v: 1, q: 'q', p: 0, k: ['AUDIT#2026-10', 'x'] }],
      ['a part past the last', { v: 1, q: 'q', p: 3, k: null }],
      ['a negative part', { v: 1, q: 'q', p: -1, k: null }],
      ['a fractional part', { v: 1, q: 'q', p: 0.5, k: null }],
      ['a missing key', { v: 1, q: 'q', p: 0 }],
      ['another version', { v: 2, q: 'q', p: 0, k: null }],
      ['an extra field', { v: 1, q: 'q', p: 0, k: null, x: 1 }],
      ['an array', [1, 'q', 0, null]],
      ['a string', 'q'],
      ['null', null],
    ];
    for (const [what, cursor] of refused) {
      expect(() => decodeCursor(forged(cursor), 'q', partOf), what).toThrow(
        expect.objectContaining({ code: 'ValidationFailed' }),
      );
    }
    for (const junk of ['', '=', 'a'.repeat(4097), 'eyJ2IjoxfQ==', '%7B%7D', '🙂']) {
      expect(() => decodeCursor(junk, 'q', partOf), junk.slice(0, 20)).toThrow(
        expect.objectContaining({ code: 'ValidationFailed' }),
      );
    }
  });
});

describe('audit event hashes', () => {
  it('do not depend on key order, and change with any field', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
    const event = {
      id: 'evt_1',
      time: '2026-11-26T10:00:00.000Z',
      action: 'role.created',
      actor: { id: 'admin', type: 'user' as const },
      target: { principalId: null, roleId: 'db', scope: null, assignmentId: null, requestId: null },
      details: {},
      previousHash: null,
    };
    expect(eventHash(event)).toMatch(/^[0-9a-f]{64}$/);
    expect(eventHash({ ...event, action: 'role.deleted' })).not.toBe(eventHash(event));
  });
});
