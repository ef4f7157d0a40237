/**
 * `npm run bench` (third part): the local server under load. This process runs the local runtime
 * (startLocal: in-memory DynamoDB Local, the system clock, the workflow and mail stand-ins) and nothing else;
 * bench/load-client.mjs, a second process, drives it with autocannon on 127.0.0.1 for BENCH_LOAD_SECONDS
 * (10) per level at 1, 10 and 50 concurrent connections, on a mix of access checks, "my assignments",
 * activations with their deactivations and the audit list. Figures: throughput, p99, errors (any non-2xx,
 * socket error or timeout; the local server has no throttle, so a 429 would be an error too) and this
 * process's RSS at the start (after seeding) and after each level. Merged into bench/results.json as `load`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocal } from '#infra/local/server.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';

const HERE = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const LEVELS = [1, 10, 50];
const USERS = 150;

interface Level {
  connections: number;
  duration: number;
  requests: number;
  throughput: number;
  latency: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statuses: Record<string, number>;
  rssStartMB: number;
  rssEndMB: number;
}

const mb = () => process.memoryUsage().rss / 1024 / 1024;

const server = await startLocal({
  port: 0,
  dataDir: ':memory:',
  clock: 'system',
  log: false,
  bootstrapAdmins: ['admin'],
});
try {
  const token = (sub: string) => server.issuer.mintToken({ sub, mfa: true, ttl: 3600 });
  const adminToken = await token('admin');
  const call = async (method: string, path: string, body: unknown, expected: number) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  console.log(`\nload: seeding ${USERS} users on ${server.url}…`);
  await call('POST', '/v1/roles', { id: 'load-activate', displayName: 'activated', privileged: false }, 201);
  await call('POST', '/v1/roles', { id: 'load-read', displayName: 'checked', privileged: false }, 201);
  const users: { id: string; token: string }[] = [];
  for (let i = 0; i < USERS; i++) {
    const id = `load-${String(i).padStart(4, '0')}`;
    const assign = (roleId: string, assignmentType: string) =>
      call(
        'POST',
        '/v1/requests',
        { action: 'adminAssign', assignmentType, principalId: id, roleId, justification: 'load seed' },
        201,
      );
    await assign('load-activate', 'eligible');
    await assign('load-read', 'active');
    users.push({ id, token: await token(id) });
  }
  const rssStart = mb();
  const levels: Level[] = [];
  for (const connections of LEVELS) {
    const before = mb();
    // Asynchronous: this process serves the requests while the client runs.
    const out = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done, fail) => {
      const child = spawn(process.execPath, [join(HERE, 'load-client.mjs')], {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: (SECONDS + 60) * 1000,
        env: {
          PATH: process.env.PATH ?? '',
          ELEVATE_LOAD: JSON.stringify({
            url: server.url,
            connections,
            duration: SECONDS,
            users,
            adminToken,
            roleId: 'load-activate',
            readRoleId: 'load-read',
          }),
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', fail);
      child.on('close', (status) => done({ status, stdout, stderr }));
    });
    const line = out.stdout
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('@@'));
    if (out.status !== 0 || !line) {
      throw new Error(`the load client failed (exit ${out.status}): ${out.stderr.slice(-600)}`);
    }
    const { active, ...figures } = JSON.parse(line.slice(2)) as Omit<Level, 'rssStartMB' | 'rssEndMB'> & {
      active: string[];
    };
    // The run stopped mid-cycle for some connections: end those activations so the next level starts clean.
    for (const id of active) {
      const user = users.find((u) => u.id === id);
      await fetch(`${server.url}/v1/requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user?.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'selfDeactivate', assignmentType: 'active', roleId: 'load-activate' }),
      });
    }
    levels.push({ ...figures, rssStartMB: before, rssEndMB: mb() });
  }
  const rssEnd = mb();
  // Let the last in-flight requests of the client finish before the server and its stand-ins stop.
  await new Promise((r) => setTimeout(r, 1000));

  const pad = (v: string, n: number) => v.padStart(n);
  console.log(
    `\nlocal server under load (${SECONDS} s per level from a second process; mix per cycle of 20: 12 access checks, 5 my-assignments, 1 activation + 1 deactivation, 1 audit list)\n`,
  );
  console.log(`connections  req/s    p50 ms  p99 ms  max ms  requests  errors  RSS MB (start → end)  statuses`);
  for (const l of levels) {
    const errors = l.errors + l.timeouts + l.non2xx;
    console.log(
      `${pad(String(l.connections), 11)}  ${pad(l.throughput.toFixed(0), 5)}  ${pad(String(l.latency.p50), 7)}  ${pad(String(l.latency.p99), 6)}  ${pad(String(l.latency.max), 6)}  ${pad(String(l.requests), 8)}  ${pad(String(errors), 6)}  ${pad(`${l.rssStartMB.toFixed(0)} → ${l.rssEndMB.toFixed(0)}`, 20)}  ${JSON.stringify(l.statuses)}`,
    );
  }
  console.log(`server RSS: ${rssStart.toFixed(0)} MB after seeding, ${rssEnd.toFixed(0)} MB at the end`);

  const file = join(HERE, 'results.json');
  const results = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  results.load = { seconds: SECONDS, users: USERS, rssStartMB: rssStart, rssEndMB: rssEnd, levels };
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await server.stop();
}
