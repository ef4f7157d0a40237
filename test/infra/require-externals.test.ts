import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { HOUSE_BUILD_OPTIONS, REPO_ROOT } from '#infra/constructs/app-function.ts';
import { generatedColumns, requireExternals, requireExternalsInDir } from '#infra/constructs/require-externals.ts';

// Twenty commands of the DynamoDB client, for a long import statement.
const COMMANDS = [
  'BatchExecuteStatementCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'CreateBackupCommand',
  'CreateGlobalTableCommand',
  'CreateTableCommand',
  'DeleteBackupCommand',
  'DeleteItemCommand',
  'DeleteTableCommand',
  'DescribeBackupCommand',
  'DescribeEndpointsCommand',
  'DescribeExportCommand',
  'DescribeTableCommand',
  'GetItemCommand',
  'ListTablesCommand',
  'PutItemCommand',
  'QueryCommand',
  'ScanCommand',
  'TransactWriteItemsCommand',
  'UpdateItemCommand',
];

// What the house banner declares (app-function.ts), for the modules written by hand below.
const BANNER = 'const __elevateRequire=require,__elevateImport=s=>Promise.resolve().then(()=>require(s));\n';

describe('requireExternals', () => {
  it.each([
    ['import{A as b,C as d}from"@aws-sdk/x";', 'const{A:b,C:d}=__elevateRequire("@aws-sdk/x");'],
    ['import{A}from"@aws-sdk/x";', 'const{A}=__elevateRequire("@aws-sdk/x");'],
    ['import { A as b, C } from "@aws-sdk/x";', 'const{A:b,C}=__elevateRequire("@aws-sdk/x");'],
    ['import*as n from"@aws-sdk/x";', 'const n=__elevateRequire("@aws-sdk/x");'],
    ['import d from"@aws-sdk/x";', 'const d=__elevateRequire("@aws-sdk/x");'],
    [
      'import{default as d,A as b}from"@aws-sdk/x";',
      'const d=__elevateRequire("@aws-sdk/x"),{A:b}=__elevateRequire("@aws-sdk/x");',
    ],
    [
      'import d,{A as b}from"@aws-sdk/x";',
      'const d=__elevateRequire("@aws-sdk/x"),{A:b}=__elevateRequire("@aws-sdk/x");',
    ],
    ['import d,*as n from"@aws-sdk/x";', 'const d=__elevateRequire("@aws-sdk/x"),n=__elevateRequire("@aws-sdk/x");'],
    ['import"@aws-sdk/x";', '__elevateRequire("@aws-sdk/x");'],
    ['var f=()=>import("@aws-sdk/client-sfn");', 'var f=()=>__elevateImport("@aws-sdk/client-sfn");'],
    ['import{WebClient as w}from"@slack/web-api";', 'const{WebClient:w}=__elevateRequire("@slack/web-api");'],
  ])('%s', (statement, expected) => {
    expect(requireExternals(BANNER + statement).code).toBe(BANNER + expected);
  });

  it('leaves Node builtins, the function’s own chunks and strings alone', () => {
    const code = `${BANNER}import{a as b}from"node:fs";import{c}from"buffer";import{x}from"./chunk-AB12.mjs";var y=()=>import("./dist-es-Q.mjs"),s='import("@aws-sdk/x")';`;

    expect(requireExternals(code).code).toBe(code);
  });

  it('refuses what it cannot rewrite faithfully: a re-export, an import that spans lines, a module without the banner', () => {
    expect(() => requireExternals(`${BANNER}export{A}from"@aws-sdk/x";`)).toThrow(/not an import statement/);
    expect(() => requireExternals(`${BANNER}import{A,\nB}from"@aws-sdk/x";`)).toThrow(/spans lines/);
    expect(() => requireExternals('import{A}from"@aws-sdk/x";')).toThrow(/house banner/);
  });

  describe('on a bundle built as the functions are', () => {
    // Inside the repository, so that the bundle finds the SDK in its node_modules as a function finds the runtime's.
    const dir = join(REPO_ROOT, 'node_modules', '.cache', 'elevate-test', `require-externals-${process.pid}`);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The probe module (a static and a dynamic import of the SDK, a marker after them), built into `dir/<out>`. */
    const buildProbe = (out: string): string => {
      mkdirSync(dir, { recursive: true });
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        [
          "import { marshall } from '@aws-sdk/util-dynamodb';",
          // Twenty names: rewritten, the statement is shorter than the segments esbuild put inside it reach
          `import { ${COMMANDS.join(', ')} } from '@aws-sdk/client-dynamodb';`,
          `export const commands = [${COMMANDS.join(', ')}].map((c) => typeof c);`,
          'export async function handler() {',
          "  const { unmarshall } = await import('@aws-sdk/util-dynamodb');",
          "  const item = marshall({ id: 'a', n: 1 });",
          "  return { marker: 'MARKER_7f3', item, back: unmarshall(item) };",
          '}',
          '',
        ].join('\n'),
      );
      buildSync({
        ...HOUSE_BUILD_OPTIONS,
        mainFields: [...HOUSE_BUILD_OPTIONS.mainFields],
        entryPoints: { index: entry },
        outdir: join(dir, out),
        outExtension: { '.js': '.mjs' },
        external: ['@aws-sdk/*'],
        logLevel: 'error',
      });
      return join(dir, out, 'index.mjs');
    };

    it('loads the SDK through require, statically and on first use, and its source map still points at the source', async () => {
      // Prepare: a static and a dynamic import of the SDK, and a marker after them on the same generated line
      const file = buildProbe('out');
      const original = (path: string) => {
        const code = readFileSync(path, 'utf8');
        const map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
        const lines = code.split('\n');
        const line = lines.findIndex((l) => l.includes('MARKER_7f3'));
        const found = map.findEntry(line, (lines[line] as string).indexOf('MARKER_7f3'));
        // where in entry.ts the marker's generated position points (the generated column itself moves)
        const entryAt =
          'originalLine' in found
            ? { source: found.originalSource, line: found.originalLine, column: found.originalColumn }
            : undefined;
        return { code, entryAt };
      };
      const before = original(file);
      expect(before.code).toMatch(/from"@aws-sdk\/util-dynamodb"/);

      // Act
      requireExternalsInDir(join(dir, 'out'));

      // Assess: no ESM import of the SDK is left; the marker maps to the same place in entry.ts
      const after = original(file);
      expect(after.code).not.toMatch(/from\s*"@aws-sdk|import\(\s*"@aws-sdk/);
      expect(after.code).toContain('__elevateRequire("@aws-sdk/util-dynamodb")');
      expect(after.code).toContain('__elevateImport("@aws-sdk/util-dynamodb")');
      expect(after.entryAt).toEqual(before.entryAt);
      // every line's generated columns still in order (the import statements' own segments stay within them)
      const mappings = (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { mappings: string }).mappings;
      for (const columns of generatedColumns(mappings)) expect(columns).toEqual([...columns].sort((a, b) => a - b));
      expect(after.entryAt?.source).toMatch(/entry\.ts$/);
      const mod = (await import(pathToFileURL(file).href)) as { handler: () => Promise<unknown> };
      await expect(mod.handler()).resolves.toEqual({
        marker: 'MARKER_7f3',
        item: { id: { S: 'a' }, n: { N: '1' } },
        back: { id: 'a', n: 1 },
      });
    });

    it('finds the SDK on NODE_PATH from a folder outside any node_modules tree, as a function in Lambda does', () => {
      // Prepare: the rewritten probe copied out of the repository (Lambda: /var/task, its SDK in /var/runtime)
      const built = buildProbe('out-lambda');
      requireExternalsInDir(join(built, '..'));
      const task = mkdtempSync(join(tmpdir(), 'elevate-task-'));
      cpSync(join(built, '..'), task, { recursive: true });
      const run = (env: Record<string, string>) =>
        spawnSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const m = await import(${JSON.stringify(pathToFileURL(join(task, 'index.mjs')).href)}); console.log(JSON.stringify(await m.handler()));`,
          ],
          { cwd: task, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } },
        );

      try {
        // Act
        const withPath = run({ NODE_PATH: join(REPO_ROOT, 'node_modules') });
        const without = run({});

        // Assess
        expect(withPath.stderr).toBe('');
        expect(withPath.status).toBe(0);
        expect(JSON.parse(withPath.stdout)).toMatchObject({ marker: 'MARKER_7f3', back: { id: 'a', n: 1 } });
        expect(without.status).not.toBe(0);
        expect(without.stderr).toContain("Cannot find module '@aws-sdk/util-dynamodb'");
      } finally {
        rmSync(task, { recursive: true, force: true });
      }
    });
  });
});
