/**
 * `npm run bench` (Slack part): on the local runtime with its Slack Web API stand-in,
 * - from the request (POST /v1/requests of an activation needing approval) to the first approver's Slack message
 *   posted on the stand-in (a direct message to the stage's approver): p50 and p99 over BENCH_SLACK_RUNS (30) runs;
 * - the interactions endpoint's answer time (POST /v1/integrations/slack/interactions, signed as Slack signs it):
 *   the click (its checks and views.open, before the answer) and the modal's submission (its checks, then the
 *   hand-over to the asynchronous run: the decision is not in this time), p50 and p99.
 * Each run's request is denied in Slack (so the next one can be asked). Not a test: nothing passes or fails on a
 * number. Written to bench/results.json (`slack`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { startLocal } from '#infra/local/server.ts';
import { LOCAL_SLACK_SIGNING_SECRET } from '#infra/local/slack.ts';
import { postInteraction } from '#infra/local/slack-click.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';

const RUNS = Number(process.env.BENCH_SLACK_RUNS ?? 30);
const server = await startLocal({
  port: 0,
  dataDir: ':memory:',
  log: false,
  bootstrapAdmins: ['admin'],
  slack: true,
});
const token = async (sub: string) => server.issuer.mintToken({ sub, mfa: true });
async function call(sub: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await token(sub)}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const out = { status: res.status, body: (await res.json()) as Record<string, unknown> };
  if (out.status >= 300) throw new Error(`${method} ${path}: ${out.status} ${JSON.stringify(out.body)}`);
  return out;
}
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
const stats = (xs: number[]) => ({ p50: +percentile(xs, 50).toFixed(1), p99: +percentile(xs, 99).toFixed(1) });
const round = () => new Promise((r) => setImmediate(r));

try {
  await call('admin', 'PUT', '/v1/principals/alice', { type: 'user', displayName: 'alice', email: 'a@example.com' });
  await call('admin', 'PUT', '/v1/principals/bob', {
    type: 'user',
    displayName: 'bob',
    email: 'b@example.com',
    slackUserId: 'U0BOB',
  });
  await call('admin', 'POST', '/v1/roles', { id: 'bench-slack', displayName: 'Bench Slack', privileged: true });
  const policy = defaultPolicy();
  policy.activation.requireMfa = false;
  policy.activation.approval = {
    required: true,
    stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT4H' }],
  };
  policy.notifications.slack = { channel: null, directMessages: true };
  await call('admin', 'PUT', '/v1/roles/bench-slack/policy', policy);
  await call('admin', 'POST', '/v1/requests', {
    action: 'adminAssign',
    assignmentType: 'eligible',
    principalId: 'alice',
    roleId: 'bench-slack',
  });

  const toMessage: number[] = [];
  const clickAnswer: number[] = [];
  const submitAnswer: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const warm = i < 3;
    // The request, to its first approver's message posted on the stand-in (watched in-process, every event-loop turn)
    const seen = server.slack.calls.length;
    const t0 = performance.now();
    const asked = await call('alice', 'POST', '/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'bench-slack',
      justification: `bench ${i}`,
    });
    const id = String(asked.body.id);
    const posted = () =>
      server.slack.calls
        .slice(seen)
        .some(
          (c) => c.method === 'chat.postMessage' && c.args.channel === 'U0BOB' && JSON.stringify(c.args).includes(id),
        );
    while (!posted()) {
      if (performance.now() - t0 > 30_000) throw new Error(`no Slack message for ${id} in 30 s`);
      await round();
    }
    const t1 = performance.now();
    // The click and the submission, each answer timed
    const trigger = `trigger-${i}`;
    const c0 = performance.now();
    const clicked = await postInteraction(server.url, LOCAL_SLACK_SIGNING_SECRET, {
      type: 'block_actions',
      user: { id: 'U0BOB' },
      trigger_id: trigger,
      channel: { id: 'D0BOB' },
      actions: [{ type: 'button', action_id: 'elevate.deny', value: id }],
    });
    const c1 = performance.now();
    const view = server.slack.calls.find((c) => c.method === 'views.open' && c.args.trigger_id === trigger)?.args
      .view as { private_metadata: string } | undefined;
    if (clicked.status !== 200 || !view) throw new Error(`the click on ${id} opened no modal`);
    const s0 = performance.now();
    const submitted = await postInteraction(server.url, LOCAL_SLACK_SIGNING_SECRET, {
      type: 'view_submission',
      user: { id: 'U0BOB' },
      view: {
        id: `V${i}`,
        callback_id: 'elevate.decision',
        private_metadata: view.private_metadata,
        state: { values: { justification: { justification: { value: 'bench' } } } },
      },
    });
    const s1 = performance.now();
    if ((submitted.body as { response_action?: string }).response_action !== 'clear') {
      throw new Error(`the submission on ${id} was refused: ${JSON.stringify(submitted.body)}`);
    }
    await server.idle();
    if (!warm) {
      toMessage.push(t1 - t0);
      clickAnswer.push(c1 - c0);
      submitAnswer.push(s1 - s0);
    }
  }
  const results = {
    runs: RUNS,
    requestToFirstApproverMessageMs: stats(toMessage),
    interactionsAnswerMs: { click: stats(clickAnswer), submission: stats(submitAnswer) },
  };
  console.log(`Slack (${RUNS} runs, local runtime and stand-in)`);
  console.log(
    `  request → first approver's message posted   p50 ${results.requestToFirstApproverMessageMs.p50} ms   p99 ${results.requestToFirstApproverMessageMs.p99} ms (target p50 ≤ 1000 ms)`,
  );
  console.log(
    `  interactions answer: click (views.open)      p50 ${results.interactionsAnswerMs.click.p50} ms   p99 ${results.interactionsAnswerMs.click.p99} ms`,
  );
  console.log(
    `  interactions answer: submission              p50 ${results.interactionsAnswerMs.submission.p50} ms   p99 ${results.interactionsAnswerMs.submission.p99} ms (Slack's limit 3000 ms)`,
  );
  const file = new URL('./results.json', import.meta.url);
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  all.slack = results;
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
} finally {
  await server.stop();
}
