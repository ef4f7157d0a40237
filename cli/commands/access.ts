/** roles, activate, deactivate, extend, check: a principal's own access. */
import type { Command, Context, Values } from '../args.ts';
import { str, toIsoDuration, toMillis, toTicket } from '../args.ts';
import type { Page } from '../client.ts';
import { ApiError, CliError, EXIT, type Problem, problemLine, UsageError } from '../errors.ts';
import { paint, status, table, until, when } from '../output.ts';
import { type AccessRequest, type Assignment, FINAL_STATUSES, NOT_GRANTED } from '../types.ts';
import { type Tracked, waitForRequests } from '../wait.ts';

const myAssignments = async (ctx: Context) => (await ctx.client().get<Page<Assignment>>('/v1/me/assignments')).items;

export const roles: Command = {
  name: 'roles',
  summary: 'my roles: what I am eligible for, what is active and for how long, what waits for approval',
  usage: '',
  args: { min: 0, max: 0 },
  async run(ctx) {
    const client = ctx.client();
    const me = await ctx.subject();
    // A plain user lists their own requests; an admin or auditor sees everyone's, so keep one's own.
    const [items, pending] = await Promise.all([
      myAssignments(ctx),
      client
        .get<Page<AccessRequest>>('/v1/requests', { status: 'PendingApproval', limit: 200 })
        .then((p) => p.items.filter((r) => r.principalId === me)),
    ]);
    ctx.out.data({ items, pending });
    if (ctx.out.json) return EXIT.ok;
    const c = ctx.out.color;
    const eligible = items.filter((a) => a.assignmentType === 'eligible');
    const active = items.filter((a) => a.assignmentType === 'active');
    const used = new Set<string>();
    const activeText = (a: Assignment) =>
      a.status === 'Scheduled'
        ? `${status(c, 'Scheduled')} from ${when(a.startDateTime)}`
        : `${paint(c, 'green', 'active')} ${until(a.endDateTime)}${inAws(ctx, a)}`;
    const rows = eligible.map((e) => {
      const on =
        active.find((a) => a.eligibilityId === e.id) ??
        active.find((a) => a.roleId === e.roleId && !used.has(a.id) && covers(e.scope, a.scope));
      if (on) used.add(on.id);
      const waiting = pending.find((r) => r.roleId === e.roleId && covers(e.scope, r.scope));
      return [
        e.roleId,
        on && on.scope !== e.scope ? on.scope : e.scope,
        until(e.endDateTime),
        on ? activeText(on) : waiting ? `${status(c, 'PendingApproval')} (request ${waiting.id})` : '-',
      ];
    });
    for (const a of active.filter((x) => !used.has(x.id))) rows.push([a.roleId, a.scope, '-', activeText(a)]);
    if (rows.length === 0) {
      ctx.out.line('You have no eligible or active roles.');
      return EXIT.ok;
    }
    for (const l of table(c, ['ROLE', 'SCOPE', 'ELIGIBLE', 'ACTIVE'], rows)) ctx.out.line(l);
    return EXIT.ok;
  },
};

/** Where an active assignment stands in AWS IAM Identity Center, when it is provisioned there. */
function inAws(ctx: Context, a: Assignment): string {
  const p = a.provisioning?.status;
  if (!p || p === 'NotRequired') return '';
  const c = ctx.out.color;
  if (p === 'Provisioned') return `, ${paint(c, 'green', 'in AWS')}`;
  if (p === 'InProgress') return `, ${paint(c, 'yellow', 'provisioning in AWS…')}`;
  return `, ${paint(c, 'red', `AWS: ${p}`)}`;
}

/** The AWS access portal the user signs in to once a grant is ready (ELEVATE_ACCESS_PORTAL_URL). */
const portal = (): string => {
  const url = process.env.ELEVATE_ACCESS_PORTAL_URL;
  return url ? `; sign in at ${url}` : '';
};

/** Does an assignment at `outer` cover `inner` (the same scope or one below it)? */
export const covers = (outer: string, inner: string): boolean =>
  outer === '/' || inner === outer || inner.startsWith(`${outer.replace(/\/$/, '')}/`);

/** --scope, or the one scope the caller holds the role at (eligible for activate, active for the rest). */
async function scopesFor(
  ctx: Context,
  roleIds: string[],
  explicit: string | undefined,
  kind: 'eligible' | 'activated',
): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  if (explicit !== undefined) {
    for (const r of roleIds) result.set(r, explicit);
    return result;
  }
  const items = await myAssignments(ctx);
  for (const roleId of roleIds) {
    const held = items.filter((a) =>
      kind === 'eligible'
        ? a.assignmentType === 'eligible' && a.roleId === roleId
        : a.assignmentType === 'active' && a.origin === 'activated' && a.roleId === roleId,
    );
    const scopes = [...new Set(held.map((a) => a.scope))];
    if (scopes.length > 1) {
      throw new UsageError(`you hold '${roleId}' at several scopes (${scopes.join(', ')}): pass --scope`);
    }
    if (scopes.length === 0 && kind === 'activated') throw new CliError(`'${roleId}' is not active for you`);
    // No eligibility: ask at '/' anyway, and let the API say why not (NotEligible).
    result.set(roleId, scopes[0] ?? '/');
  }
  return result;
}

interface Outcome {
  roleId: string;
  scope: string;
  request?: AccessRequest;
  error?: Problem;
}

function outcomeLine(ctx: Context, o: Outcome, width: number): string {
  const c = ctx.out.color;
  const head = `${o.roleId.padEnd(width)}  ${o.scope}`;
  if (o.error) return `${paint(c, 'red', '✗')} ${head}  ${paint(c, 'red', problemLine(o.error))}`;
  const r = o.request as AccessRequest;
  if (r.action === 'selfDeactivate' && r.status === 'Revoked') return `${paint(c, 'green', '✓')} ${head}  deactivated`;
  const mark = NOT_GRANTED.has(r.status)
    ? paint(c, 'red', '✗')
    : r.status === 'PendingApproval' || r.status === 'Provisioning'
      ? paint(c, 'yellow', '…')
      : paint(c, 'green', '✓');
  return `${mark} ${head}  ${status(c, r.status)}  ${describe(r)}`;
}

/** What a request's status means for the user, in a few words. */
export function describe(r: AccessRequest): string {
  switch (r.status) {
    case 'Granted':
      return `${until(r.schedule.expiration.endDateTime)}${r.assignmentId && provisionedGrants.has(r.id) ? portal() : ''}`;
    case 'Provisioning':
      return `provisioning in AWS… (request ${r.id})`;
    case 'Failed':
      return `request ${r.id}${r.failureReason ? `: ${r.failureReason}` : ''}`;
    case 'Scheduled':
      return `from ${when(r.schedule.startDateTime)}`;
    case 'PendingApproval': {
      const stage = r.approval.stages.find((s) => s.status === 'Pending');
      const who = stage?.approvers?.map((a) => (a.type === 'user' ? a.id : `${a.type}:${a.id}`)).join(', ');
      return `request ${r.id}${who ? `, waiting for ${who}` : ''}`;
    }
    default: {
      const denial = r.approval.stages.flatMap((s) => s.decisions).find((d) => d.decision === 'Deny');
      return `request ${r.id}${denial ? ` (${denial.approverId}: ${denial.justification ?? 'no reason given'})` : ''}`;
    }
  }
}

/** Requests seen Provisioning: once Granted, their access is in AWS (the portal URL is shown for them). */
const provisionedGrants = new Set<string>();

async function submit(
  ctx: Context,
  v: Values,
  roleIds: string[],
  bodyOf: (roleId: string, scope: string) => Record<string, unknown>,
  scopes: Map<string, string>,
): Promise<number> {
  const client = ctx.client();
  const outcomes: Outcome[] = await Promise.all(
    roleIds.map(async (roleId): Promise<Outcome> => {
      const scope = scopes.get(roleId) ?? '/';
      try {
        const res = await client.post<AccessRequest>('/v1/requests', bodyOf(roleId, scope));
        return { roleId, scope, request: res.body };
      } catch (error) {
        if (error instanceof ApiError) return { roleId, scope, error: error.problem };
        throw error;
      }
    }),
  );
  const width = Math.max(...roleIds.map((r) => r.length));
  const waits = (o: Outcome) => o.request?.status === 'PendingApproval' || o.request?.status === 'Provisioning';
  for (const o of outcomes) if (o.request?.status === 'Provisioning') provisionedGrants.add(o.request.id);
  const pending = outcomes.filter(waits);
  if (v.wait && pending.length > 0) {
    const tracked: Tracked[] = outcomes.map((o) => ({
      line: () => outcomeLine(ctx, o, width),
      ...(o.request &&
        waits(o) && {
          requestId: o.request.id,
          update: (r: AccessRequest) => {
            // An approval whose grant is made in AWS goes Provisioning before Granted.
            if (r.status === 'Provisioning') provisionedGrants.add(r.id);
            o.request = r;
          },
          done: () => FINAL_STATUSES.has(o.request?.status ?? ''),
        }),
    }));
    await waitForRequests(ctx, tracked, toMillis(str(v.poll) ?? '3', '--poll'));
  } else {
    for (const o of outcomes) ctx.out.line(outcomeLine(ctx, o, width));
    if (pending.length > 0 && !ctx.out.json) {
      const what = pending.some((o) => o.request?.status === 'PendingApproval')
        ? 'Pending approval'
        : 'Being provisioned in AWS';
      ctx.out.note(paint(ctx.out.errColor, 'dim', `${what}: follow with \`elevate requests\` or add --wait.`));
    }
  }
  ctx.out.data({
    results: outcomes.map((o) => ({
      roleId: o.roleId,
      scope: o.scope,
      status: o.request?.status ?? 'Refused',
      ...(o.request && { request: o.request }),
      ...(o.error && { error: o.error }),
    })),
  });
  const errors = outcomes.filter((o) => o.error).map((o) => o.error as Problem);
  if (errors.some((e) => e.status === 401)) return EXIT.unauthenticated;
  if (errors.length) return EXIT.failed;
  if (outcomes.some((o) => o.request && NOT_GRANTED.has(o.request.status))) return EXIT.notGranted;
  return EXIT.ok;
}

const requestOptions = {
  scope: { type: 'string', arg: 'SCOPE', description: 'scope such as /accounts/123 (default: where you are eligible)' },
  for: { type: 'string', arg: 'DURATION', description: 'how long: 2h, 30m, 1h30m (default: the policy maximum)' },
  reason: { type: 'string', short: 'r', arg: 'TEXT', description: 'justification' },
  ticket: { type: 'string', arg: 'SYS:NUM', description: 'ticket, e.g. jira:OPS-1' },
  wait: {
    type: 'boolean',
    short: 'w',
    description: 'follow requests that need approval, or are being provisioned in AWS, until they are decided',
  },
  poll: { type: 'string', arg: 'SECONDS', description: 'with --wait: how often to ask (default 3)' },
} as const;

function common(v: Values): Record<string, unknown> {
  const duration = str(v.for) === undefined ? undefined : toIsoDuration(str(v.for) as string);
  if (str(v.poll) !== undefined) toMillis(str(v.poll) as string, '--poll');
  return {
    ...(str(v.reason) !== undefined && { justification: str(v.reason) }),
    ...(str(v.ticket) !== undefined && { ticket: toTicket(str(v.ticket) as string) }),
    ...(duration && { schedule: { expiration: { type: 'afterDuration', duration } } }),
  };
}

export const activate: Command = {
  name: 'activate',
  summary: 'activate one or more roles you are eligible for (each its own request)',
  usage: 'ROLE... [--scope S] [--for 2h] [--reason R] [--ticket SYS:NUM] [--wait]',
  description: `Activate one or more roles you are eligible for; each role is its own request (POST /v1/requests,
selfActivate). A role is granted at once (201) or waits for approval (202); a role delivered in AWS IAM Identity
Center is Provisioning until AWS has made it. With --wait, the requests that wait are followed, one live line
per role ("provisioning in AWS…" meanwhile), until Granted, Denied, TimedOut, Canceled or Failed; a grant made in
AWS prints the access portal to sign in at when ELEVATE_ACCESS_PORTAL_URL is set.
Without --scope, each role is activated at the scope you are eligible at.

Exit code: 1 when the API refused any role (the line says why), else 4 when --wait saw any request end
without the grant, else 0.`,
  options: requestOptions,
  args: { min: 1, max: 20 },
  examples: [
    'elevate activate db-admin --for 2h --reason "INC-42: disk full"',
    'elevate activate ops prod --scope /accounts/123456789012 --for 1h30m -r INC-42 --ticket jira:OPS-1 --wait',
  ],
  async run(ctx, v, roleIds) {
    const extra = common(v);
    const unique = [...new Set(roleIds)];
    const scopes = await scopesFor(ctx, unique, str(v.scope), 'eligible');
    return submit(
      ctx,
      v,
      unique,
      (roleId, scope) => ({ action: 'selfActivate', assignmentType: 'active', roleId, scope, ...extra }),
      scopes,
    );
  },
};

export const extend: Command = {
  name: 'extend',
  summary: "extend an active activation (counted against the policy's maxExtensions)",
  usage: 'ROLE [--for 2h] [--reason R] [--scope S] [--wait]',
  description: `Extend your activation of a role (POST /v1/requests, selfExtend): --for is counted from now
(default: the policy maximum). It may need approval as activation does; --wait follows it.`,
  options: requestOptions,
  args: { min: 1, max: 1 },
  async run(ctx, v, [roleId]) {
    const extra = common(v);
    const role = roleId as string;
    const scopes = await scopesFor(ctx, [role], str(v.scope), 'activated');
    return submit(
      ctx,
      v,
      [role],
      (r, scope) => ({ action: 'selfExtend', assignmentType: 'active', roleId: r, scope, ...extra }),
      scopes,
    );
  },
};

export const deactivate: Command = {
  name: 'deactivate',
  summary: 'end your activation of one or more roles now',
  usage: 'ROLE... [--scope S] [--reason R]',
  description: 'End your activation of each role now (POST /v1/requests, selfDeactivate).',
  options: { scope: requestOptions.scope, reason: requestOptions.reason },
  args: { min: 1, max: 20 },
  async run(ctx, v, roleIds) {
    const unique = [...new Set(roleIds)];
    const scopes = await scopesFor(ctx, unique, str(v.scope), 'activated');
    return submit(
      ctx,
      v,
      unique,
      (roleId, scope) => ({
        action: 'selfDeactivate',
        assignmentType: 'active',
        roleId,
        scope,
        ...(str(v.reason) !== undefined && { justification: str(v.reason) }),
      }),
      scopes,
    );
  },
};

export const check: Command = {
  name: 'check',
  summary: 'does PRINCIPAL hold ROLE at SCOPE right now? (exit 0 yes, 1 no)',
  usage: 'PRINCIPAL ROLE [SCOPE]',
  description: `Ask the access check (GET /v1/access): does PRINCIPAL hold an active ROLE at SCOPE (default /)?
Exit code 0 when allowed, 1 when not, so scripts can write \`elevate check alice db-admin /accounts/1 && ...\`.
Checking anyone but yourself needs elevate-admin or elevate-auditor.`,
  args: { min: 2, max: 3 },
  async run(ctx, _v, [principalId, roleId, scope = '/']) {
    const answer = await ctx
      .client()
      .get<{ allowed: boolean; assignmentId: string | null; expiresAt: string | null }>('/v1/access', {
        principalId,
        roleId,
        scope,
      });
    ctx.out.data({ principalId, roleId, scope, ...answer });
    const c = ctx.out.color;
    ctx.out.line(
      answer.allowed
        ? `${paint(c, 'green', 'allowed')}: ${principalId} holds ${roleId} at ${scope}, ${until(answer.expiresAt)}`
        : `${paint(c, 'red', 'not allowed')}: ${principalId} does not hold ${roleId} at ${scope}`,
    );
    return answer.allowed ? EXIT.ok : EXIT.failed;
  },
};
