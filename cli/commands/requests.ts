/** requests, approvals, approve, deny, cancel. */
import type { Command, Context } from '../args.ts';
import { str } from '../args.ts';
import { enc, type Page } from '../client.ts';
import { EXIT, UsageError } from '../errors.ts';
import { paint, status, table, when } from '../output.ts';
import type { AccessRequest } from '../types.ts';
import { describe } from './access.ts';

const STATUSES = ['PendingApproval', 'Granted', 'Scheduled', 'Denied', 'Canceled', 'TimedOut', 'Revoked', 'Failed'];

const limitOption = {
  limit: { type: 'string', arg: 'N', description: 'at most N (1..200, default 50)' },
  'next-token': { type: 'string', arg: 'TOKEN', description: 'the page after this one (printed as nextToken)' },
} as const;

function pageQuery(v: Record<string, string | boolean | undefined>) {
  const limit = str(v.limit);
  if (limit !== undefined && !/^\d+$/.test(limit)) throw new UsageError('--limit takes a number from 1 to 200');
  return { limit, nextToken: str(v['next-token']) };
}

function printRequests(ctx: Context, page: Page<AccessRequest>, who: 'requester' | 'none', empty: string): void {
  ctx.out.data(page);
  if (ctx.out.json) return;
  if (page.items.length === 0) {
    ctx.out.line(empty);
    return;
  }
  const c = ctx.out.color;
  const rows = page.items.map((r) => [
    r.id,
    ...(who === 'requester' ? [r.principalId] : []),
    r.roleId,
    r.scope,
    r.action,
    status(c, r.status),
    when(r.createdAt),
    r.justification ?? '',
  ]);
  const header = [
    'ID',
    ...(who === 'requester' ? ['REQUESTER'] : []),
    'ROLE',
    'SCOPE',
    'ACTION',
    'STATUS',
    'CREATED',
    'REASON',
  ];
  for (const l of table(c, header, rows)) ctx.out.line(l);
  if (page.nextToken) ctx.out.line(paint(c, 'dim', `more: --next-token ${page.nextToken}`));
}

export const requests: Command = {
  name: 'requests',
  summary: "my requests, newest first (admins and auditors: everyone's)",
  usage: '[--status S] [--role ROLE] [--principal ID]',
  options: {
    status: { type: 'string', arg: 'STATUS', description: STATUSES.join(' | ') },
    role: { type: 'string', arg: 'ROLE', description: 'only this role' },
    principal: { type: 'string', arg: 'ID', description: 'only this principal (admins and auditors)' },
    ...limitOption,
  },
  args: { min: 0, max: 0 },
  async run(ctx, v) {
    const s = str(v.status);
    const match = s && STATUSES.find((x) => x.toLowerCase() === s.toLowerCase());
    if (s && !match) throw new UsageError(`--status takes one of ${STATUSES.join(', ')}`, 'requests');
    const page = await ctx.client().get<Page<AccessRequest>>('/v1/requests', {
      ...pageQuery(v),
      status: match || undefined,
      roleId: str(v.role),
      principalId: str(v.principal),
    });
    printRequests(ctx, page, 'requester', 'No requests.');
    return EXIT.ok;
  },
};

export const approvals: Command = {
  name: 'approvals',
  summary: 'requests waiting for your decision',
  usage: '',
  options: limitOption,
  args: { min: 0, max: 0 },
  async run(ctx, v) {
    const page = await ctx.client().get<Page<AccessRequest>>('/v1/approvals', pageQuery(v));
    printRequests(ctx, page, 'requester', 'Nothing waits for your approval.');
    return EXIT.ok;
  },
};

function decision(kind: 'approve' | 'deny'): Command {
  return {
    name: kind,
    summary: `${kind} a request waiting in a stage you approve`,
    usage: 'ID [--reason R]',
    description: `${kind === 'approve' ? 'Approve' : 'Deny'} the request ID (POST /v1/requests/ID/${kind}). You cannot decide your own.`,
    options: { reason: { type: 'string', short: 'r', arg: 'TEXT', description: 'why (recorded in the audit log)' } },
    args: { min: 1, max: 1 },
    async run(ctx, v, [id]) {
      const reason = str(v.reason);
      const res = await ctx
        .client()
        .post<AccessRequest>(
          `/v1/requests/${enc(id as string)}/${kind}`,
          reason === undefined ? {} : { justification: reason },
        );
      printDecided(ctx, res.body, kind === 'approve' ? 'Approved' : 'Denied');
      return EXIT.ok;
    },
  };
}

function printDecided(ctx: Context, r: AccessRequest, verb: string): void {
  ctx.out.data(r);
  ctx.out.line(
    `${verb} ${r.id} (${r.principalId}: ${r.roleId} at ${r.scope}); the request is now ${status(ctx.out.color, r.status)}${
      r.status === 'PendingApproval' ? ` (${describe(r)})` : ''
    }.`,
  );
}

export const approve = decision('approve');
export const deny = decision('deny');

export const cancel: Command = {
  name: 'cancel',
  summary: 'withdraw your request while it waits for approval',
  usage: 'ID',
  args: { min: 1, max: 1 },
  async run(ctx, _v, [id]) {
    const res = await ctx.client().post<AccessRequest>(`/v1/requests/${enc(id as string)}/cancel`, {});
    printDecided(ctx, res.body, 'Canceled');
    return EXIT.ok;
  },
};
