/**
 * `npm run bench` (second part): the access workflow on the local runtime. Figures:
 * - state transitions per request kind (what Step Functions bills), read from the executions;
 * - the time from an approver's "approve" call to the access check saying yes (the approve call grants in
 *   its own transaction, so this is the approve call plus one access check), against the floor of one
 *   access check alone.
 * Not a test: nothing here passes or fails on a number.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { startLocal } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';

const RUNS = Number(process.env.BENCH_APPROVALS ?? 60);
/**
 * AWS list prices, USD, us-east-1 (checked against the public pricing pages; other regions differ a little).
 * DynamoDB on-demand after the November 2024 price cut; Lambda on arm64 (the stack's architecture).
 */
const PRICES = {
  region: 'us-east-1',
  dynamoWriteRequestUnit: 0.625 / 1e6,
  dynamoReadRequestUnit: 0.125 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  stepFunctionsTransition: 0.025 / 1000,
  httpApiRequest: 1.0 / 1e6,
} as const;
const TRANSITION_PRICE_PER_1000 = PRICES.stepFunctionsTransition * 1000;
/** The memory every function has (AppFunction's default; infra/constructs/app-function.ts). */
const LAMBDA_MEMORY_MB = 512;
/** The workflow states that invoke the workflow Lambda (LambdaInvoke tasks of infra/constructs/workflow.ts). */
const LAMBDA_TASKS = new Set(['Failed', 'TimeOut', 'AwaitApproval', 'Grant', 'Expire']);

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

  // The running cost of 1,000 activations without approval, from bench/run.ts's figures (same npm run bench).
  const file = new URL('./results.json', import.meta.url);
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const activation = (
    all.latency as { name: string; handlerRcu: number; handlerWcu: number; handler: { p50: number } }[]
  )?.find((r) => r.name === 'POST /v1/requests (selfActivate)');
  // The writes as billed (bench/run.ts bills the transaction item by item, index copies included; a transaction's
  // items count twice already): DynamoDB Local's TOTAL (`handlerWcu`) is a sum of distinct item costs, no bill.
  const billed = (all.operations as Record<string, { billedWcu?: { total: number } }> | undefined)?.[
    'POST /v1/requests (selfActivate)'
  ]?.billedWcu?.total;
  const states = transitions['activation without approval'] ?? [];
  if (activation) {
    const wru = billed ?? activation.handlerWcu;
    // The activation call: 1 API request, 1 Lambda invocation of the handler's measured p50 (billed per ms,
    // rounded up), its measured capacity units. The workflow: its transitions, one Lambda invocation per
    // LambdaInvoke state entered (Expire), and the expiry's writes, taken equal to the activation's (it
    // rewrites the same records: assignment, live slot, request, audit event and chain head).
    const invocations = 1 + states.filter((st) => LAMBDA_TASKS.has(st)).length;
    const gbSeconds = invocations * (Math.ceil(activation.handler.p50) / 1000) * (LAMBDA_MEMORY_MB / 1024);
    const per1000 = {
      apiGateway: 1000 * PRICES.httpApiRequest,
      lambda: 1000 * (invocations * PRICES.lambdaRequest + gbSeconds * PRICES.lambdaGbSecondArm),
      dynamodb: 1000 * (2 * wru * PRICES.dynamoWriteRequestUnit + activation.handlerRcu * PRICES.dynamoReadRequestUnit),
      stepFunctions: 1000 * states.length * PRICES.stepFunctionsTransition,
    };
    const total = Object.values(per1000).reduce((a, b) => a + b, 0);
    console.log(`\ncost per 1,000 activations without approval (USD, ${PRICES.region} list prices):`);
    console.log(
      `  API Gateway HTTP API  1 request × $1.00/M                                   $${per1000.apiGateway.toFixed(4)}`,
    );
    console.log(
      `  Lambda (arm64, ${LAMBDA_MEMORY_MB} MB)   ${invocations} invocations × ($0.20/M + ${Math.ceil(activation.handler.p50)} ms × 0.5 GB × $0.0000133334/GB-s)  $${per1000.lambda.toFixed(4)}`,
    );
    console.log(
      `  DynamoDB on-demand    ${activation.handlerRcu.toFixed(1)} RRU × $0.125/M + 2 × ${wru.toFixed(1)} WRU × $0.625/M          $${per1000.dynamodb.toFixed(4)}`,
    );
    console.log(
      `  Step Functions std.   ${states.length} transitions × $0.025/1,000                          $${per1000.stepFunctions.toFixed(4)}`,
    );
    console.log(`  total                                                                      $${total.toFixed(4)}`);
    all.cost = { prices: PRICES, lambdaMemoryMB: LAMBDA_MEMORY_MB, invocations, per1000, total };
  } else {
    console.log('\ncost: no selfActivate figures in bench/results.json (run bench/run.ts first)');
  }
  all.workflow = results;
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
} finally {
  await server.stop();
}
