/**
 * The load generator of bench/load.ts, run as a process of its own (so the server's process does only the
 * server's work): autocannon against the local server on 127.0.0.1 for a bounded time, on a request mix,
 * every connection cycling through the mix as one user of a pool. Input: ELEVATE_LOAD (JSON). Output: one
 * line `@@{...}` with autocannon's figures and the status codes seen.
 */
import autocannon from 'autocannon';

const cfg = JSON.parse(process.env.ELEVATE_LOAD ?? '{}');
const { url, connections, duration, users, adminToken, roleId, readRoleId } = cfg;
const statuses = {};
/** Users whose activation went through and whose deactivation did not (yet): the parent ends them. */
const active = new Set();
/** Users some connection is cycling with now. */
const busy = new Set();
let nextUser = 0;

const json = { 'content-type': 'application/json' };
const activation = {
  action: 'selfActivate',
  assignmentType: 'active',
  roleId,
  justification: 'load test',
  schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
};
const deactivation = { action: 'selfDeactivate', assignmentType: 'active', roleId };

/** Each request of the cycle, as the user the connection took at the cycle's start. */
const as = (build) => (req, context) => {
  // autocannon clears the context when a connection starts the mix again: take the next user of the pool.
  // A user still in a cycle of another connection (a slow one) is skipped: one activation per user at a time.
  if (context.user === undefined) {
    while (busy.has(users[nextUser % users.length].id)) nextUser++;
    context.user = users[nextUser++ % users.length];
    busy.add(context.user.id);
  }
  return { ...req, ...build(context.user) };
};
const check = as((u) => ({
  method: 'GET',
  path: `/v1/access?roleId=${readRoleId}`,
  headers: { authorization: `Bearer ${u.token}` },
}));
const mine = as((u) => ({
  method: 'GET',
  path: '/v1/me/assignments',
  headers: { authorization: `Bearer ${u.token}` },
}));
const post = (body) =>
  as((u) => ({
    method: 'POST',
    path: '/v1/requests',
    headers: { ...json, authorization: `Bearer ${u.token}` },
    body: JSON.stringify(body),
  }));
const audit = as(() => ({
  method: 'GET',
  path: '/v1/audit-events?limit=50',
  headers: { authorization: `Bearer ${adminToken}` },
}));

// One cycle of 20: 12 access checks (60 %), 5 "my assignments" (25 %), 1 activation and its deactivation
// (10 %), 1 audit list by an admin (5 %).
const MIX = [post(activation), check, check, mine, check, check, mine, check, check, audit, check, mine, check];
const deactivate = post(deactivation);
MIX.push(check, deactivate, check, mine, check, check, mine);

const result = await autocannon({
  url,
  connections,
  duration,
  requests: MIX.map((setupRequest, i) => ({
    setupRequest,
    onResponse: (status, _body, context) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (i === 0 && status === 201) active.add(context.user.id);
      if (setupRequest === deactivate) {
        active.delete(context.user.id);
        busy.delete(context.user.id);
      }
    },
  })),
});
process.stdout.write(
  `\n@@${JSON.stringify({
    connections,
    duration,
    requests: result.requests.total,
    throughput: result.requests.average,
    latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statuses,
    active: [...active],
  })}\n`,
);
