import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '#functions/api/routes.ts';
import { CONTRACT } from '#shared/api/contract.ts';
import { canonicalJson, eventHash } from '#shared/domain/audit.ts';
import { buildOpenApi } from '#shared/http/openapi.ts';
import { decodeCursor, encodeCursor } from '#shared/store/pagination.ts';

describe('the published contract', () => {
  it('is the checked-in docs/openapi.json (run `npm run openapi` after changing a schema)', () => {
    const checkedIn = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(buildOpenApi());
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
  it('round-trip, and refuse a token of another query or a forged one', () => {
    const token = encodeCursor('q1', 2, { pk: 'AUDIT#2026-11', sk: 'x' });
    expect(decodeCursor(token, 'q1')).toEqual({ part: 2, key: { pk: 'AUDIT#2026-11', sk: 'x' } });
    expect(() => decodeCursor(token, 'q2')).toThrow(/not a token this list gave out/);
    expect(() => decodeCursor('not-base64-json', 'q1')).toThrow(/not a token/);
    expect(() =>
      decodeCursor(Buffer.from('{"v":1,"q":"q1","p":0,"k":{"pk":1}}').toString('base64url'), 'q1'),
    ).toThrow();
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
