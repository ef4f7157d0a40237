import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dynamoEndpoint } from '#test/support/table.ts';

/**
 * `npm start` as a user runs it (infra/local/start.ts in a child process, on the run's DynamoDB Local): a client that
 * connects while it starts is not left hanging; the port accepts connections only once the runtime can answer.
 */
const root = new URL('../../', import.meta.url).pathname;
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** One GET: when the connection was accepted and when the answer came (ms since `t0`), or null when refused. */
function probe(port: number, t0: number): Promise<{ connectedAt: number; answeredAt: number; status: number } | null> {
  return new Promise((resolve) => {
    let connectedAt = 0;
    const req = request({ host: '127.0.0.1', port, path: '/_local/clock', timeout: 120_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ connectedAt, answeredAt: performance.now() - t0, status: res.statusCode ?? 0 }));
    });
    req.on('socket', (socket) =>
      socket.on('connect', () => {
        connectedAt = performance.now() - t0;
      }),
    );
    req.on('error', () => resolve(null));
    req.end();
  });
}

describe('npm start', () => {
  it('accepts a connection only once it can answer it: an early client is refused, never left waiting', {
    timeout: 240_000,
  }, async () => {
    // Prepare
    const port = await freePort();
    const t0 = performance.now();
    let ready = 0;
    child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        ELEVATE_DATA_DIR: ':memory:',
        ELEVATE_CLOCK: 'manual',
        AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      if (!ready && output.includes('listening on')) ready = performance.now() - t0;
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });

    // Act: knock every 20 ms from the start until a connection is accepted
    let first: Awaited<ReturnType<typeof probe>> = null;
    while (!first) {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
      first = await probe(port, t0);
      if (!first) await new Promise((r) => setTimeout(r, 20));
    }
    while (!ready && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));

    // Assess: the first accepted connection is answered at once, not after the rest of the start-up
    expect(first.status, output).toBe(200);
    const startup = ready;
    const waited = first.answeredAt - first.connectedAt;
    expect(waited, `start-up ${Math.round(startup)} ms, the first client waited ${Math.round(waited)} ms`).toBeLessThan(
      startup / 4,
    );
  });
});
