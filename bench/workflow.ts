/**
 * `npm run bench` (second part): the access workflow on the local runtime. Figures:
 * - state transitions per request kind (what Step Functions bills), read from the executions;
 * - the time from an approver's "approve" call to the access check saying yes (the approve call grants in
 *   its own transaction, so this is the approve call plus one access check), against the floor of one
 *   access check alone.
 * Not a test: nothing here passes or fails on a number.
 */
import { writeFileSync } from 'node:fs';
import { startLocal } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';

const RUNS = Number(process.env.BENCH_APPROVALS ?? 60);
const TRANSITION_PRICE_PER_1000 = 0.025; // Step Functions standard workflows, USD, us-east-1 list price

const server = await startLocal({
  port: 0,
  dataDir: ':memory:',
  clock: 'manual',
  log: false,
  bootstrapAdmins: ['admin'],
});
const token = async (sub: string) => server.issuer.mintToken({ sub, mfa: true });
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

try {
  for (const [id, approval] of [
    ['bench-open', false],
    ['bench-approved', true],
  ] as const) {
    await call('admin', 'POST', '/v1/roles', { id, displayName: id, privileged: false });
    const policy = defaultPolicy();
    if (approval)
      policy.activation.approval = {
        required: true,
        stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT4H' }],
      };
    await call('admin', 'PUT', `/v1/roles/${id}/policy`, policy);
  }
  const transitions: Record<string, readonly string[]> = {};
  const approveToYes: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const user = `user-${i}`;
    for (const roleId of ['bench-open', 'bench-approved']) {
      await call('admin', 'POST', '/v1/requests', {
        action: 'adminAssign',
        assignmentType: 'eligible',
        principalId: user,
        roleId,
      });
    }
    const open = await call(user, 'POST', '/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'bench-open',
      justification: 'bench',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    const asked = await call(user, 'POST', '/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'bench-approved',
      justification: 'bench',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    await server.idle();
    let t = performance.now();
    await call(user, 'GET', '/v1/access?roleId=bench-open');
    floor.push(performance.now() - t);
    t = performance.now();
    const approved = await call('bob', 'POST', `/v1/requests/${String(asked.body.id)}/approve`, {
      justification: 'ok',
    });
    const check = await call(user, 'GET', '/v1/access?roleId=bench-approved');
    approveToYes.push(performance.now() - t);
    if (approved.body.status !== 'Granted' || check.body.allowed !== true)
      throw new Error(`run ${i}: not granted at once`);
    if (i === 0) {
      await fetch(`${server.url}/_local/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advance: 'PT2H' }),
      });
      await server.idle();
      transitions['activation without approval'] = server.statesEntered(String(open.body.id));
      transitions['activation with one approval stage'] = server.statesEntered(String(asked.body.id));
    }
  }
  console.log('\nstate transitions per request (Step Functions standard, billed per transition)');
  for (const [kind, states] of Object.entries(transitions)) {
    const cost = (states.length * TRANSITION_PRICE_PER_1000).toFixed(3);
    console.log(
      `  ${kind.padEnd(38)} ${String(states.length).padStart(3)}  ($${cost} per 1,000)  ${states.join(' → ')}`,
    );
  }
  const row = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(2)} ms  p99 ${percentile(xs, 99).toFixed(2)} ms`;
  console.log(`\napprove → access check says yes (${RUNS} runs, over HTTP): ${row(approveToYes)}`);
  console.log(`floor: one access check over HTTP:                ${row(floor)}`);
  console.log(`ratio p50: ${(percentile(approveToYes, 50) / percentile(floor, 50)).toFixed(2)}`);
  const results = {
    transitions: Object.fromEntries(Object.entries(transitions).map(([k, v]) => [k, { count: v.length, states: v }])),
    approveToAccessMs: { p50: percentile(approveToYes, 50), p99: percentile(approveToYes, 99) },
    accessCheckFloorMs: { p50: percentile(floor, 50), p99: percentile(floor, 99) },
  };
  writeFileSync(new URL('./workflow-results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await server.stop();
}
