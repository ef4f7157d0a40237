/**
 * `npm run bench:provisioning`: grants made real in IAM Identity Center, on the local runtime with the system clock
 * and the Identity Center stand-in's operations taking BENCH_IDC_LATENCY (default PT5S). Figures:
 * - activation call → request Granted (the assignment reported SUCCEEDED), p50/p95, minus the stand-in's latency:
 *   the delay Elevate adds (its polls, its Lambda steps, its transactions);
 * - deactivation call → assignment Deprovisioned (the deletion reported SUCCEEDED), likewise;
 * - Step Functions state transitions per provisioned activation: its execution up to the wait for the end, and the
 *   removal's execution.
 * Not a test: nothing here passes or fails on a number. Runs BENCH_PROVISIONING_RUNS users (default 20),
 * BENCH_PROVISIONING_CONCURRENCY at a time (default 5).
 */
import { writeFileSync } from 'node:fs';
import { LOCAL_PERMISSION_SETS } from '#infra/local/identity-center.ts';
import { startLocal } from '#infra/local/server.ts';
import { durationMs } from '#shared/domain/duration.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';

const LATENCY = process.env.BENCH_IDC_LATENCY ?? 'PT5S';
const LATENCY_MS = durationMs(LATENCY);
const RUNS = Number(process.env.BENCH_PROVISIONING_RUNS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_PROVISIONING_CONCURRENCY ?? 5);
const SCOPE = '/accounts/111111111111';
const ROLE = 'bench-idc';
/** How often the bench asks whether the request is Granted (the resolution of the figures). */
const POLL_MS = 50;

const server = await startLocal({
  port: 0,
  dataDir: ':memory:',
  clock: 'system',
  log: false,
  bootstrapAdmins: ['admin'],
  identityCenterLatency: LATENCY,
});
const token = async (sub: string) => server.issuer.mintToken({ sub, mfa: true, email: `${sub}@example.com` });
async function call(
  sub: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await token(sub)}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` says yes; the time it first did. */
async function until(done: () => Promise<boolean>, what: string): Promise<number> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    if (await done()) return performance.now();
    await sleep(POLL_MS);
  }
  throw new Error(`${what}: not within 120 s`);
}

try {
  await call('admin', 'POST', '/v1/roles', { id: ROLE, displayName: ROLE, privileged: false });
  const targets = await call('admin', 'PUT', `/v1/roles/${ROLE}/targets`, {
    targets: [{ type: 'identityCenterAccountAssignment', permissionSetArn: LOCAL_PERMISSION_SETS.admin }],
  });
  if (targets.status !== 200) throw new Error(`targets: ${JSON.stringify(targets.body)}`);

  const grant: number[] = [];
  const removal: number[] = [];
  let transitions: { grant: readonly string[]; removal: readonly string[] } | undefined;

  async function one(i: number): Promise<void> {
    const user = `bench-user-${i}`;
    await call(user, 'GET', '/v1/me/assignments'); // the stand-in makes the user's Identity Center user
    const eligible = await call('admin', 'POST', '/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: user,
      roleId: ROLE,
      scope: SCOPE,
    });
    if (eligible.status !== 201) throw new Error(`eligible: ${JSON.stringify(eligible.body)}`);
    const t0 = performance.now();
    const asked = await call(user, 'POST', '/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: ROLE,
      scope: SCOPE,
      justification: 'bench',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    if (asked.body.status !== 'Provisioning') throw new Error(`activation: ${JSON.stringify(asked.body)}`);
    const id = String(asked.body.id);
    const assignmentId = String(asked.body.assignmentId);
    const t1 = await until(
      async () => (await call('admin', 'GET', `/v1/requests/${id}`)).body.status === 'Granted',
      `request ${id} Granted`,
    );
    grant.push(t1 - t0 - LATENCY_MS);
    const t2 = performance.now();
    const off = await call(user, 'POST', '/v1/requests', {
      action: 'selfDeactivate',
      assignmentType: 'active',
      roleId: ROLE,
      scope: SCOPE,
    });
    if (off.status !== 201) throw new Error(`deactivation: ${JSON.stringify(off.body)}`);
    const t3 = await until(async () => {
      const a = await call('admin', 'GET', `/v1/assignments/${assignmentId}`);
      return (a.body.provisioning as { status: string }).status === 'Deprovisioned';
    }, `assignment ${assignmentId} Deprovisioned`);
    removal.push(t3 - t2 - LATENCY_MS);
    if (!transitions) {
      await sleep(200);
      transitions = { grant: server.statesEntered(id), removal: server.statesEntered(`${assignmentId}-end`) };
    }
  }

  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < RUNS) await one(next++);
    }),
  );

  const row = (xs: number[]) =>
    `p50 ${percentile(xs, 50).toFixed(0)} ms  p95 ${percentile(xs, 95).toFixed(0)} ms  max ${Math.max(...xs).toFixed(0)} ms`;
  console.log(
    `\nprovisioning into the Identity Center stand-in (latency ${LATENCY}, ${RUNS} activations, ${CONCURRENCY} at a time, polled every ${POLL_MS} ms)`,
  );
  console.log(`  activation call → Granted, minus the stand-in's latency:       ${row(grant)}`);
  console.log(`  deactivation call → Deprovisioned, minus the stand-in's latency: ${row(removal)}`);
  const states = transitions ?? { grant: [], removal: [] };
  console.log(`\nstate transitions per provisioned activation: ${states.grant.length + states.removal.length}`);
  console.log(`  grant (${states.grant.length}):   ${states.grant.join(' → ')}`);
  console.log(`  removal (${states.removal.length}): ${states.removal.join(' → ')}`);
  const results = {
    latency: LATENCY,
    runs: RUNS,
    concurrency: CONCURRENCY,
    addedDelayMs: {
      grant: { p50: percentile(grant, 50), p95: percentile(grant, 95) },
      removal: { p50: percentile(removal, 50), p95: percentile(removal, 95) },
    },
    transitions: { grant: states.grant, removal: states.removal, total: states.grant.length + states.removal.length },
  };
  writeFileSync(new URL('./provisioning-results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await server.stop();
}
