/**
 * The closing count of a CI run (.ci/run): `node --import tsx scripts/ci-summary.ts <reports-dir>`.
 *
 * <reports-dir> holds vitest's JSON reports (one per vitest invocation, any name ending in .json) and
 * steps.tsv (`<step>\t<exit code>\t<report file>\t<seconds>` per step of `npm test`; the seconds are shown). Tests are counted from the
 * reports only, never from vitest's console summary. A failure that is not a failed test still counts,
 * so a red run can never print `0 failed`:
 * - a test file that failed without a failed test (it did not load or compile, a hook threw): 1 each;
 * - a step that exited non-zero with no failure counted above (typecheck, an unhandled error, a tier whose
 *   global setup could not start DynamoDB Local), or a vitest step that left no report: 1 each.
 * The last line printed is exactly `N passed, N failed`; the exit code is 1 when anything failed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

// Only the fields the count needs; vitest's report has more, which are ignored.
const Assertion = z.object({ status: z.string(), fullName: z.string() });
const FileResult = z.object({
  name: z.string(),
  status: z.string(),
  message: z.string().optional(),
  assertionResults: z.array(Assertion),
});
const Report = z.object({
  numPassedTests: z.number().int().nonnegative(),
  numFailedTests: z.number().int().nonnegative(),
  numPendingTests: z.number().int().nonnegative(),
  numTodoTests: z.number().int().nonnegative(),
  testResults: z.array(FileResult),
});
type Report = z.infer<typeof Report>;

interface Step {
  command: string;
  exitCode: number;
  report: string;
  seconds: number | null;
}

interface Row {
  name: string;
  exitCode: number | null;
  seconds: number | null;
  passed: number;
  failed: number;
  skipped: number;
  notes: string[];
}

const dir = process.argv[2];
if (!dir || !existsSync(dir)) {
  console.log(`ci-summary: no reports directory${dir ? ` at ${dir}` : ''}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

function readSteps(): Step[] {
  const file = join(dir as string, 'steps.tsv');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [command = '', exitCode = '1', report = '', seconds] = line.split('\t');
      const s = seconds === undefined || seconds === '' ? null : Number(seconds);
      return { command, exitCode: Number(exitCode), report, seconds: Number.isFinite(s) ? s : null };
    });
}

/** The package.json scripts, to tell a vitest step (which must leave a report) from another (typecheck). */
function scripts(): Record<string, string> {
  try {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts?: Record<string, string> };
    return pkg.scripts ?? {};
  } catch {
    return {};
  }
}

/** `npm run x` / `npm run-script x` / `npm test` resolved (one level) to the script's text. */
function runsVitest(command: string, all: Record<string, string>): boolean {
  const m = /^npm\s+(?:run|run-script)\s+(\S+)|^npm\s+(test|t)\b/.exec(command.trim());
  const name = m?.[1] ?? (m?.[2] ? 'test' : undefined);
  const text = name !== undefined ? (all[name] ?? '') : command;
  return /\bvitest\b/.test(text);
}

function readReport(file: string): Report | string {
  try {
    const parsed = Report.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : `unreadable report ${file}: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
  } catch (error) {
    return `unreadable report ${file}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function count(report: Report, row: Row, failures: string[]): void {
  row.passed += report.numPassedTests;
  row.failed += report.numFailedTests;
  row.skipped += report.numPendingTests + report.numTodoTests;
  for (const file of report.testResults) {
    for (const a of file.assertionResults) if (a.status === 'failed') failures.push(`${row.name}: ${a.fullName}`);
    const failedTests = file.assertionResults.filter((a) => a.status === 'failed').length;
    if (file.status === 'failed' && failedTests === 0) {
      // The file failed as a whole (did not load, a hook threw): no test says so, the file counts as one.
      row.failed++;
      const why = (file.message ?? '').split('\n')[0]?.slice(0, 160) ?? '';
      row.notes.push(`file failed: ${file.name}${why ? ` (${why})` : ''}`);
      failures.push(`${row.name}: ${file.name} ${why}`);
    }
  }
}

const steps = readSteps();
const all = scripts();
const rows: Row[] = [];
const failures: string[] = [];
const seen = new Set<string>();

for (const step of steps) {
  const row: Row = {
    name: step.command,
    exitCode: step.exitCode,
    seconds: step.seconds,
    passed: 0,
    failed: 0,
    skipped: 0,
    notes: [],
  };
  const file = join(dir, step.report);
  if (step.report && existsSync(file)) {
    seen.add(step.report);
    const report = readReport(file);
    if (typeof report === 'string') {
      row.failed++;
      row.notes.push(report);
    } else count(report, row, failures);
  } else if (runsVitest(step.command, all)) {
    row.notes.push('no vitest report: the tier did not run');
    if (step.exitCode === 0) row.failed++; // a tier that "passed" without reporting is not a pass
  }
  if (step.exitCode !== 0 && row.failed === 0) {
    // Typecheck, a tier that could not start, or vitest failing on an error outside any test.
    row.failed++;
    row.notes.push(`exited ${step.exitCode} without a failed test`);
    failures.push(`${row.name}: exited ${step.exitCode}`);
  }
  rows.push(row);
}

// Reports that no step claims (a step that runs vitest more than once, a tool writing into the dir): still counted.
for (const name of readdirSync(dir).sort()) {
  if (!name.endsWith('.json') || seen.has(name)) continue;
  const row: Row = { name, exitCode: null, seconds: null, passed: 0, failed: 0, skipped: 0, notes: [] };
  const report = readReport(join(dir, name));
  if (typeof report === 'string') {
    row.failed++;
    row.notes.push(report);
  } else count(report, row, failures);
  rows.push(row);
}

if (rows.length === 0) {
  rows.push({
    name: '(nothing ran)',
    exitCode: null,
    seconds: null,
    passed: 0,
    failed: 1,
    skipped: 0,
    notes: ['no steps and no reports'],
  });
}

const width = Math.max(...rows.map((r) => r.name.length), 4);
console.log(`${'step'.padEnd(width)}  exit  passed  failed  skipped  seconds`);
for (const r of rows) {
  const exit = r.exitCode === null ? '-' : String(r.exitCode);
  console.log(
    `${r.name.padEnd(width)}  ${exit.padStart(4)}  ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.skipped).padStart(7)}  ${(r.seconds === null ? '-' : String(r.seconds)).padStart(7)}`,
  );
  for (const note of r.notes) console.log(`${''.padEnd(width)}  ↳ ${note}`);
}
if (failures.length > 0) {
  console.log(`\nfailed (${failures.length}):`);
  for (const f of failures.slice(0, 30)) console.log(`  ✗ ${f}`);
  if (failures.length > 30) console.log(`  … and ${failures.length - 30} more`);
}

const passed = rows.reduce((n, r) => n + r.passed, 0);
const failed = rows.reduce((n, r) => n + r.failed, 0);
const red = failed > 0 || steps.some((s) => s.exitCode !== 0);
console.log(`${passed} passed, ${red && failed === 0 ? 1 : failed} failed`);
process.exit(red ? 1 : 0);
