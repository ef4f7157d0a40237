import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { startTestServer } from '#test/support/local.ts';

/**
 * Issue 14 item 10: the README, pasted in order by a newcomer against `npm start`. Every ```sh block runs, top to
 * bottom, in one bash session against the local runtime (its address put for `127.0.0.1:3000`), unless the line
 * before it says `<!-- readme-test: skip (why) -->`; a block marked `<!-- readme-test: expect 400 -->` must be
 * refused so, every other call must succeed (each curl's status is recorded). Then the command-line transcript runs
 * up to its first `--wait`, and what `elevate roles` prints must match the transcript's rows.
 */
const root = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(root, 'README.md'), 'utf8');
const LOCAL = 'http://127.0.0.1:3000';

interface Block {
  readonly line: number;
  readonly code: string;
  readonly expect: number | undefined;
}

/** The ```sh blocks, with their marks. */
function shellBlocks(markdown: string): { run: Block[]; skipped: number[] } {
  const lines = markdown.split('\n');
  const run: Block[] = [];
  const skipped: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const end = lines.indexOf('```', i + 1);
    const mark = /^<!-- readme-test: (skip|expect (\d{3}))\b/.exec(lines[i - 1] ?? '');
    if (mark?.[1] === 'skip') skipped.push(i + 1);
    else
      run.push({
        line: i + 1,
        code: lines.slice(i + 1, end).join('\n'),
        expect: mark?.[2] ? Number(mark[2]) : undefined,
      });
    i = end;
  }
  return { run, skipped };
}

/** The `$ command` lines of the command-line transcript up to its first `--wait`, each with the lines it printed. */
function transcript(markdown: string): { command: string; output: string[] }[] {
  const start = markdown.indexOf('```console\n');
  const body = markdown.slice(start + '```console\n'.length, markdown.indexOf('\n```', start + 1)).split('\n');
  const steps: { command: string; output: string[] }[] = [];
  for (const line of body) {
    if (line.startsWith('$ ')) {
      if (line.includes('--wait')) break;
      steps.push({ command: line.slice(2), output: [] });
    } else if (line && !line.startsWith('#')) steps.at(-1)?.output.push(line);
  }
  return steps;
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

let server: LocalServer;
let work: string;
let bundle: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'elevate-readme-'));
  bundle = join(work, 'elevate.mjs');
  await promisify(execFile)(process.execPath, [join(root, 'cli/build.mjs'), bundle]);
  // As `npm start`: the system clock, a data folder whose key `npm run token` signs with.
  server = await startTestServer({ dataDir: join(work, 'data'), clock: 'system' });
}, 180_000);
afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('README, top to bottom', () => {
  it('marks only the blocks that cannot run here, and each runnable block is shell', () => {
    const { run, skipped } = shellBlocks(README);
    expect(skipped).toHaveLength(2);
    expect(run.length).toBeGreaterThan(8);
  });

  it('runs every shell block in order against the local runtime, each call answering as the README says', async () => {
    // Prepare
    const { run } = shellBlocks(README);
    const port = new URL(server.url).port;
    const script = [
      'set -euo pipefail',
      // Each curl's status goes to stderr, after the block's marker; its output is untouched.
      `curl() { command curl -w '%{stderr}@@status %{http_code}\\n' "$@"; }`,
      // Each block's start, on stdout (after output that may not end a line) and on stderr.
      `mark() { printf '\\n@@block %s\\n' "$1"; printf '\\n@@block %s\\n' "$1" >&2; }`,
      ...run.flatMap((b, i) => [`mark '${i}'`, b.code.replaceAll(LOCAL, server.url)]),
      `mark end`,
      // The transcript's commands, with `elevate` the CLI's bundle.
      `elevate() { node '${bundle}' "$@"; }`,
      ...transcript(README).flatMap((step, i) => [`printf '\\n@@cli ${i}\\n'`, `${step.command} 2>&1`]),
    ].join('\n');

    // Act
    const result = await bash(script, {
      ELEVATE_DATA_DIR: join(work, 'data'),
      PORT: port,
      HOME: work,
      XDG_CONFIG_HOME: join(work, 'config'),
      NO_COLOR: '1',
    });

    // Assess: the session ran to its end
    expect(result.code, result.err.slice(-3000)).toBe(0);
    const blocks = result.err.split(/^@@block /m).slice(1);
    expect(blocks.at(-1)?.startsWith('end')).toBe(true);
    for (const [i, block] of run.entries()) {
      const statuses = [...(blocks[i] ?? '').matchAll(/^@@status (\d{3})$/gm)].map((m) => Number(m[1]));
      const where = `README.md:${block.line}\n${block.code}\n${blocks[i]}`;
      if (block.expect) expect(statuses, where).toEqual(statuses.map(() => block.expect));
      else for (const status of statuses) expect(status, where).toBeLessThan(400);
      if (/\bcurl\b/.test(block.code)) expect(statuses.length, where).toBeGreaterThan(0);
    }
    // Bob's approval (step 7) answers alice's request, now Granted.
    const outputs = result.out.split(/^@@block /m).slice(1);
    const approval = run.findIndex((b) => b.code.includes('/approve'));
    expect(approval).toBeGreaterThan(0);
    const answer = outputs[approval]?.split('"nextToken":null}').at(-1) ?? '';
    expect(answer).toContain('"roleId":"db-owner"');
    expect(answer).toContain('"status":"Granted"');

    // Assess: the CLI transcript prints what the README shows (its rows; the walkthrough's roles come too)
    // (columns are as wide as their widest cell, so spaces are compared as one)
    const squeeze = (line: string) => line.replace(/ +/g, ' ').trim();
    const printed = result.out.split(/^@@cli /m).slice(1);
    const steps = transcript(README);
    expect(steps.map((s) => s.command)).toEqual(['elevate login --local --sub alice --mfa', 'elevate roles']);
    for (const [i, step] of steps.entries()) {
      const lines = (printed[i] ?? '').split('\n').slice(1).map(squeeze);
      for (const expected of step.output) {
        expect(lines, `${step.command}\n${printed[i]}`).toContain(squeeze(expected.replaceAll(LOCAL, server.url)));
      }
    }
  }, 600_000);
});
