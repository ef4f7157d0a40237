/**
 * `npm run --silent token -- --sub alice [--email a@x] [--name N] [--groups g1,g2] [--mfa] [--acrs c1,c2] [--ttl 3600]`
 * prints only a JWT of the local issuer, signed with the key in $ELEVATE_DATA_DIR (default .elevate-data/).
 *
 * The token is issued at the running server's clock time when the server answers on $PORT (so it is valid
 * under a manual clock that has been moved), else at the system time.
 */
import { parseArgs } from 'node:util';
import { type Clock, ManualClock, systemClock, useClock } from '#shared/clock.ts';
import { loadIssuer, type TokenOptions } from './issuer.ts';

function fail(message: string): never {
  console.error(`token: ${message}`);
  process.exit(1);
}

const list = (value: string | undefined): string[] | undefined =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');

async function serverClock(): Promise<Clock> {
  const port = process.env.PORT ?? '3000';
  try {
    const res = await fetch(`http://127.0.0.1:${port}/_local/clock`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { now?: unknown };
    if (res.ok && typeof body.now === 'string') {
      const now = new Date(body.now);
      if (!Number.isNaN(now.getTime())) return new ManualClock(now);
    }
  } catch {
    // no server answering: the system time it is
  }
  return systemClock;
}

let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    options: {
      sub: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      groups: { type: 'string' },
      mfa: { type: 'boolean' },
      acrs: { type: 'string' },
      ttl: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
}
try {
  ({ values } = parse());
} catch (error) {
  fail(
    `${error instanceof Error ? error.message : String(error)}\nusage: npm run --silent token -- --sub alice [--email a@x] [--name N] [--groups g1,g2] [--mfa] [--acrs c1] [--ttl 3600]`,
  );
}
if (!values.sub) fail('--sub is required (the principal id), e.g. --sub admin');
const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) fail('--ttl must be a positive number of seconds');

const dataDir = process.env.ELEVATE_DATA_DIR || '.elevate-data';
let issuer: Awaited<ReturnType<typeof loadIssuer>>;
try {
  issuer = await loadIssuer(dataDir);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

const groups = list(values.groups);
const acrs = list(values.acrs);
const options: TokenOptions = {
  sub: values.sub,
  ...(values.email !== undefined && { email: values.email }),
  ...(values.name !== undefined && { name: values.name }),
  ...(groups && { groups }),
  ...(values.mfa !== undefined && { mfa: values.mfa }),
  ...(acrs && { acrs }),
  ...(ttl !== undefined && { ttl }),
};
useClock(await serverClock());
process.stdout.write(`${await issuer.mintToken(options)}\n`);
