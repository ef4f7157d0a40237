import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cruise as depcruise } from 'dependency-cruiser';
import extractDepcruiseConfig from 'dependency-cruiser/config-utl/extract-depcruise-config';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The layering rule of `npm run lint` (.dependency-cruiser.cjs), with the project's config, on small trees laid out
 * like the project: each wrong-way import below is one the project had or could have, and each must be refused by
 * its rule (with the lint's reporter, a non-zero exit); the right-way tree passes.
 */
const CONFIG = resolve(import.meta.dirname, '../../.dependency-cruiser.cjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A right-way tree: a domain rule, a record, a use case, a port and Deps, the HTTP wrapper, a function. */
const BASE: Record<string, string> = {
  'shared/log.ts': 'export const log = (msg: string) => console.log(msg);\n',
  'shared/domain/rule.ts':
    "import { createHash } from 'node:crypto';\nexport const rule = () => createHash('sha256');\n",
  'shared/store/records.ts': "import { rule } from '../domain/rule.ts';\nexport const keys = { a: rule };\n",
  'shared/ports/objects.ts': 'export interface ObjectStore { create(): Promise<boolean> }\nexport class S3Store {}\n',
  'shared/deps.ts':
    "import { type ObjectStore, S3Store } from './ports/objects.ts';\nexport interface Deps { objects: ObjectStore }\nexport const made = new S3Store();\n",
  'shared/usecases/run.ts':
    "import type { Deps } from '../deps.ts';\nimport { log } from '../log.ts';\nimport type { ObjectStore } from '../ports/objects.ts';\nimport { keys } from '../store/records.ts';\nexport const run = (d: Deps, o: ObjectStore) => { log('x'); return [d, o, keys]; };\n",
  'shared/api/routes.ts': "export const ROUTES = [{ fn: 'meta' }] as const;\n",
  'shared/http/api.ts':
    "import { ROUTES } from '../api/routes.ts';\nimport { run } from '../usecases/run.ts';\nexport const api = [ROUTES, run];\n",
  'functions/api/meta.ts': "import { api } from '#shared/http/api.ts';\nexport const handler = api;\n",
  'infra/stack.ts': "import { ROUTES } from '#shared/api/routes.ts';\nexport const stack = ROUTES;\n",
};

async function cruise(overrides: Record<string, string>): Promise<{ code: number; violations: Violation[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'dependency-rules-'));
  dirs.push(dir);
  const files: Record<string, string> = {
    'package.json': JSON.stringify({
      type: 'module',
      imports: { '#shared/*': './shared/*', '#functions/*': './functions/*', '#infra/*': './infra/*' },
    }),
    ...BASE,
    ...overrides,
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const config = await extractDepcruiseConfig(CONFIG);
  // The tree has no tsconfig of its own (type-only imports are told apart all the same).
  const { tsConfig: _, ...options } = config.options ?? {};
  const run = (outputType: 'json' | 'err') =>
    depcruise(['shared', 'functions', 'infra'], {
      ...options,
      ruleSet: { forbidden: config.forbidden ?? [] },
      validate: true,
      baseDir: dir,
      outputType,
    });
  const json = await run('json');
  // The lint's own reporter: its exit code is what fails `npm run lint`.
  const err = await run('err');
  return { code: err.exitCode, violations: JSON.parse(String(json.output)).summary.violations };
}

const brokenRules = (violations: Violation[]) => violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);

describe('the dependency rule of npm run lint', { timeout: 120_000 }, () => {
  it('passes a tree whose dependencies point one way (type-only imports of ports and Deps included)', async () => {
    // Act
    const result = await cruise({});

    // Assess
    expect(brokenRules(result.violations)).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('refuses shared/ importing the route table from functions/ (it belongs in shared/api)', async () => {
    // Prepare
    const overrides = {
      'functions/api/routes.ts': "export const ROUTES = [{ fn: 'meta' }] as const;\n",
      'shared/api/operations.ts':
        "import { ROUTES } from '../../functions/api/routes.ts';\nexport const ops = ROUTES;\n",
    };

    // Act
    const result = await cruise(overrides);

    // Assess
    expect(brokenRules(result.violations)).toEqual([
      'shared-below-functions: shared/api/operations.ts → functions/api/routes.ts',
    ]);
    expect(result.code).not.toBe(0);
  });

  it('refuses a use case importing the logger from the HTTP package', async () => {
    // Prepare
    const overrides = {
      'shared/http/log.ts': 'export const log = (msg: string) => console.log(msg);\n',
      'shared/usecases/run.ts': "import { log } from '../http/log.ts';\nexport const run = () => log('x');\n",
    };

    // Act
    const result = await cruise(overrides);

    // Assess
    expect(brokenRules(result.violations)).toEqual([
      'use-cases-below-http: shared/usecases/run.ts → shared/http/log.ts',
    ]);
    expect(result.code).not.toBe(0);
  });

  it('refuses a use case building its own adapter (a value import of a port) instead of using Deps', async () => {
    // Prepare
    const overrides = {
      'shared/usecases/exports.ts':
        "import { S3Store } from '../ports/objects.ts';\nexport const objects = () => new S3Store();\n",
    };

    // Act
    const result = await cruise(overrides);

    // Assess
    expect(brokenRules(result.violations)).toEqual([
      'use-cases-reach-adapters-through-deps: shared/usecases/exports.ts → shared/ports/objects.ts',
    ]);
  });

  it('refuses the HTTP wrapper reading records from the store itself', async () => {
    // Prepare
    const overrides = {
      'shared/http/idempotency.ts': "import { keys } from '../store/records.ts';\nexport const read = () => keys;\n",
    };

    // Act
    const result = await cruise(overrides);

    // Assess
    expect(brokenRules(result.violations)).toEqual([
      'http-through-use-cases: shared/http/idempotency.ts → shared/store/records.ts',
    ]);
  });

  it('refuses the domain importing the store, and the store importing a use case', async () => {
    // Prepare
    const overrides = {
      'shared/domain/rule.ts': "import { keys } from '../store/records.ts';\nexport const rule = () => keys;\n",
      'shared/store/records.ts': "import { run } from '../usecases/run.ts';\nexport const keys = { run };\n",
    };

    // Act
    const result = await cruise(overrides);

    // Assess
    expect(brokenRules(result.violations)).toEqual(
      expect.arrayContaining([
        'domain-is-pure: shared/domain/rule.ts → shared/store/records.ts',
        'store-below-use-cases: shared/store/records.ts → shared/usecases/run.ts',
      ]),
    );
  });

  it('refuses a function importing infra, through the #infra alias too', async () => {
    // Prepare
    const overrides = {
      'functions/api/meta.ts': "import { stack } from '#infra/stack.ts';\nexport const handler = stack;\n",
    };

    // Act
    const result = await cruise(overrides);

    // Assess
    expect(brokenRules(result.violations)).toEqual(['functions-below-infra: functions/api/meta.ts → infra/stack.ts']);
  });
});
