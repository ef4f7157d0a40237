import { defineConfig } from 'vitest/config';

const dynamodb = './test/support/dynamodb-global-setup.ts';
/** Every file of a DynamoDB tier uses the template that global setup synthesized once for the run. */
const localTemplate = './test/support/local-template-setup.ts';

// The AWS SDK warns on every run that Node 20 support ends in 2027; that is known and only noise in tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The jobs' info lines (reconcile done, alerts scan done, ...) would drown the test output; warnings and errors show.
process.env.ELEVATE_LOG ??= 'warn';

/**
 * Five tiers, one project each (and `cloud`, the optional smoke tier against a deployed stack): `vitest run --project unit` etc. Every project that needs DynamoDB shares
 * one DynamoDB Local per run (started by the global setup, see test/support/dynamodb-global-setup.ts); each
 * test file makes its own uniquely named table. For CI, set VITEST_JSON=<file> (or pass
 * `--reporter=default --reporter=json --outputFile.json=<file>`).
 */
const jsonReport = process.env.VITEST_JSON;

/**
 * Test files of the DynamoDB tiers at once. Vitest's default is one fewer than the cores: one at a time on CI's 2
 * cores. These files spend most of their time waiting (on DynamoDB Local, a separate Java process, on the local
 * runtime's timers and polls), so two at a time on 2 cores overlap those waits: six e2e files took 223 s instead of
 * 363 s, on the same loaded 2-core machine. Each file has its own table and runtime, so files never share state.
 */
const DYNAMODB_TIER_WORKERS = 2;

export default defineConfig({
  test: {
    // VITEST_JSON=<file> adds vitest's JSON report (numPassedTests, numFailedTests) next to the usual output.
    ...(jsonReport && { reporters: ['default', 'json'], outputFile: { json: jsonReport } }),
    projects: [
      // Unit tests run in milliseconds; the ceiling is for a loaded machine (a few drive real timers).
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
      {
        extends: true,
        test: {
          name: 'integration',
          maxWorkers: DYNAMODB_TIER_WORKERS,
          include: ['test/integration/**/*.test.ts'],
          globalSetup: [dynamodb],
          setupFiles: [localTemplate],
          // Sized for a loaded 2-core machine (CI beside other work): a test that passes in seconds when quiet
          // can take ten times as long, and a timeout is never the assertion.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          maxWorkers: DYNAMODB_TIER_WORKERS,
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: [dynamodb],
          setupFiles: [localTemplate],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      // The console in a real Chromium (playwright-core; /usr/bin/chromium or CHROMIUM_PATH) on the local runtime.
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: [dynamodb],
          setupFiles: [localTemplate],
          testTimeout: 240_000,
          hookTimeout: 240_000,
          // One Chromium at a time: each file starts its own, and the machine is shared.
          fileParallelism: false,
        },
      },
      // Against a deployed stack, only by `npm run test:cloud` (never by `npm test`); skipped without its env.
      {
        extends: true,
        test: {
          name: 'cloud',
          include: ['test/cloud/**/*.test.ts'],
          testTimeout: 30_000,
          sequence: { concurrent: false },
        },
      },
      {
        extends: true,
        test: {
          name: 'workflow',
          maxWorkers: DYNAMODB_TIER_WORKERS,
          include: ['test/workflow/**/*.test.ts'],
          globalSetup: [dynamodb],
          setupFiles: [localTemplate],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
