import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '#functions/api/routes.ts';
import { SCHEDULES } from '#functions/scheduled/schedules.ts';
import { buildApp } from '#infra/synth.ts';

// Needs the handler entry files (functions/api/<fn>.ts, functions/bootstrap/handler.ts,
// functions/workflow/handler.ts, functions/scheduled/<fn>.ts): it bundles them
// with the local esbuild, offline, exactly as `cdk synth` does.
describe('bundled synth', () => {
  it('bundles every function into minified ESM with a source map, leaving the AWS SDK to the runtime', () => {
    // Prepare
    const { app } = buildApp({ nag: false, cloudFormationValidation: false });

    // Act
    const assembly = app.synth();

    // Assess
    const bundles = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    const withHandler = bundles.filter((name) => readdirSync(join(assembly.directory, name)).includes('index.mjs'));
    // the API functions, the bootstrap handler, the workflow handler, the outbox publisher and one per scheduled job
    expect(withHandler).toHaveLength(FUNCTIONS.length + 3 + SCHEDULES.length);
    const codes: string[] = [];
    for (const name of withHandler) {
      const dir = join(assembly.directory, name);
      expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire as __elevateCreateRequire } from 'node:module';")).toBe(true);
      codes.push(code);
    }
    // the SDK stays an import for the Lambda runtime to provide, never bundled
    expect(codes.some((code) => /from\s*"@aws-sdk\/client-dynamodb"/.test(code))).toBe(true);
  });
});
