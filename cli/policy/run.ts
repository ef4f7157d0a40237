/**
 * Policy as code (docs/policy-as-code.md): `plan` and `apply` an elevate.yaml against the live service, `export`
 * the live service as one. Everything goes through the ordinary HTTP API, as the caller (an administrator).
 * Loaded only when one of those commands runs (cli/commands/policy.ts): the file's schema brings zod and the domain.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { stringify } from 'yaml';
import type { AlertSettings } from '#shared/domain/alerts.ts';
import type { Change as PendingChange } from '#shared/domain/governance.ts';
import { groupOfRole } from '#shared/domain/group.ts';
import { defaultPolicy, type RolePolicy, type ScopedPolicy } from '#shared/domain/policy.ts';
import type { Review } from '#shared/domain/review.ts';
import type { Target } from '#shared/domain/targets.ts';
import { type Context, str, type Values } from '../args.ts';
import type { ApiClient, Page } from '../client.ts';
import { ApiError, CliError, EXIT, UsageError } from '../errors.ts';
import { paint } from '../output.ts';
import { printable } from '../text.ts';
import type { Assignment, ScopeItem } from '../types.ts';
import { canonical, type Desired, loadFile, patchOf } from './format.ts';
import {
  idempotencyKey,
  isManagedText,
  type LiveEligibility,
  type LiveRole,
  type LiveState,
  type Plan,
  type PlannedChange,
  plan,
  reviewInputOf,
  unmarked,
} from './plan.ts';
import { counts, renderPlan } from './render.ts';

/** At most this many items are read of one list. */
const MAX_ITEMS = 20_000;

async function all<T>(client: ApiClient, path: string, query: Record<string, string> = {}): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.get<Page<T>>(path, { ...query, limit: 200, nextToken });
    items.push(...page.items);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken && items.length < MAX_ITEMS);
  return items;
}

/** The live state, read through the API (an administrator's reads). */
export async function readLive(client: ApiClient): Promise<LiveState> {
  const enc = encodeURIComponent;
  const roles = await all<{
    id: string;
    displayName: string;
    description: string | null;
    privileged: boolean;
    builtIn: boolean;
  }>(client, '/v1/roles');
  const liveRoles: LiveRole[] = [];
  for (const r of roles) {
    if (groupOfRole(r.id)) continue;
    const policies = await all<ScopedPolicy>(client, `/v1/roles/${enc(r.id)}/policies`);
    const { targets } = await client.get<{ targets: Target[] }>(`/v1/roles/${enc(r.id)}/targets`);
    liveRoles.push({ ...r, targets, policies: policies.map((p) => ({ scope: p.scope, policy: p.policy })) });
  }
  const eligibility: LiveEligibility[] = [];
  for (const status of ['Active', 'Scheduled']) {
    for (const a of await all<Assignment>(client, '/v1/assignments', { assignmentType: 'eligible', status })) {
      if (a.origin !== 'assigned' || groupOfRole(a.roleId)) continue;
      eligibility.push({
        id: a.id,
        principalType: a.principalType,
        principalId: a.principalId,
        roleId: a.roleId,
        scope: a.scope,
        endDateTime: a.endDateTime,
        justification: a.justification,
      });
    }
  }
  return {
    roles: liveRoles,
    groups: await all(client, '/v1/groups'),
    eligibility,
    reviews: await all<Review>(client, '/v1/access-reviews'),
    alertSettings: await client.get<AlertSettings>('/v1/alert-settings'),
    organization: await all<ScopeItem>(client, '/v1/scopes'),
    pending: await all<PendingChange>(client, '/v1/changes', { status: 'Pending' }),
  };
}

async function readDesired(values: Values): Promise<{ file: string; desired: Desired }> {
  const file = str(values.file);
  if (!file) throw new UsageError('give the policy file with -f FILE');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return { file, desired: loadFile(file, text) };
}

async function makePlan(ctx: Context, values: Values): Promise<{ file: string; desired: Desired; plan: Plan }> {
  const { file, desired } = await readDesired(values);
  const live = await readLive(ctx.rawClient());
  try {
    return { file, desired, plan: plan(live, desired, { prune: values.prune === true }) };
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
}

const planDocument = (file: string, p: Plan) => ({ file, summary: counts(p), ...p });

export async function runPlan(ctx: Context, values: Values): Promise<number> {
  const { file, plan: p } = await makePlan(ctx, values);
  ctx.out.data(planDocument(file, p));
  for (const line of renderPlan(p)) ctx.out.line(printable(line));
  return values['detailed-exitcode'] && p.changes.length > 0 ? 2 : EXIT.ok;
}

async function confirm(ctx: Context): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError('apply asks before it changes anything: pass --yes when not at a terminal', 'apply');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('Apply these changes? Type yes to go on: ');
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
    ctx.out.note('');
  }
}

interface Outcome {
  id: string;
  subject: string;
  action: PlannedChange['action'];
  result: 'applied' | 'pending' | 'alreadyPending' | 'alreadyDone';
  change?: string;
}

async function applyOne(client: ApiClient, digest: string, c: PlannedChange): Promise<Outcome> {
  const base = { id: c.id, subject: c.subject, action: c.action };
  if (c.pendingChange) return { ...base, result: 'alreadyPending', change: c.pendingChange };
  const qs = c.call.query ? `?${new URLSearchParams(c.call.query).toString()}` : '';
  try {
    let answer = await client.request<{ id?: string }>(c.call.method, `${c.call.path}${qs}`, c.call.body, {
      'idempotency-key': idempotencyKey(digest, c),
    });
    // A replayed answer: an earlier run made this very change, and it was undone since (the plan, read from the live
    // service, needs it again). Make it again, under a key derived from that earlier answer too.
    for (let again = 0; answer.replayed && again < 3; again++) {
      const key = idempotencyKey(digest, { id: `${c.id} after ${canonical(answer.body)}` });
      answer = await client.request<{ id?: string }>(c.call.method, `${c.call.path}${qs}`, c.call.body, {
        'idempotency-key': key,
      });
    }
    if (answer.status === 202)
      return { ...base, result: 'pending', ...(answer.body?.id && { change: answer.body.id }) };
    return { ...base, result: 'applied' };
  } catch (error) {
    // A removal already made (by a run that stopped before it heard the answer) is done.
    if (c.action === 'delete' && error instanceof ApiError && error.problem.status === 404) {
      return { ...base, result: 'alreadyDone' };
    }
    throw new CliError(`${c.subject}: ${(error as Error).message}`);
  }
}

export async function runApply(ctx: Context, values: Values): Promise<number> {
  const { file, desired, plan: p } = await makePlan(ctx, values);
  if (!ctx.out.json) for (const line of renderPlan(p)) ctx.out.line(printable(line));
  if (p.changes.length === 0) {
    ctx.out.data({ ...planDocument(file, p), applied: [] });
    return EXIT.ok;
  }
  if (!values.yes && !(await confirm(ctx))) {
    ctx.out.note('Nothing applied.');
    return EXIT.failed;
  }
  const client = ctx.rawClient();
  const outcomes: Outcome[] = [];
  const c = ctx.out.color;
  for (const change of p.changes) {
    const outcome = await applyOne(client, desired.digest, change);
    outcomes.push(outcome);
    const words = {
      applied: paint(c, 'green', 'done'),
      alreadyDone: 'already done',
      pending: paint(c, 'yellow', `pending change ${outcome.change ?? ''} (governance.requireSecondAdmin)`),
      alreadyPending: paint(c, 'yellow', `already pending as change ${outcome.change ?? ''}`),
    };
    ctx.out.line(`${printable(`${change.action} ${change.subject}`)}: ${words[outcome.result]}`);
  }
  const pending = outcomes.filter((o) => o.result === 'pending' || o.result === 'alreadyPending');
  // Check the work: the service read again must match the file, but for what waits for a second administrator.
  // (A call answered from its Idempotency-Key's memory, 24 h, of a resource removed by hand since, would not.)
  const after = plan(await readLive(client), desired, { prune: values.prune === true });
  const left = after.changes.filter((change) => !change.pendingChange);
  ctx.out.data({ ...planDocument(file, p), applied: outcomes, remaining: left.map((change) => change.subject) });
  ctx.out.line('');
  ctx.out.line(`Applied ${outcomes.length - pending.length} change(s).`);
  if (pending.length > 0) {
    ctx.out.line(
      `${pending.length} change(s) wait for a second administrator (governance.requireSecondAdmin): see GET /v1/changes; run apply again once they are decided.`,
    );
  }
  if (left.length > 0) {
    throw new CliError(
      `the service does not match ${file} after apply: ${left.map((change) => `${change.action} ${change.subject}`).join('; ')} remain (changed meanwhile by someone else?); run apply again`,
    );
  }
  return EXIT.ok;
}

/** The live service as a policy file (what `plan` of it finds equal). */
export function exportFile(live: LiveState): Record<string, unknown> {
  const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const roles = live.roles
    .filter((r) => !r.builtIn)
    .sort(byId)
    .map((r) => {
      const policies = new Map(r.policies.map((p) => [p.scope, p.policy]));
      const base = policies.get('/') ?? defaultPolicy();
      const policy = patchOf(defaultPolicy(), base);
      const scopes = Object.fromEntries(
        [...policies]
          .filter(([scope]) => scope !== '/')
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([scope, whole]): [string, unknown] => [scope, patchOf(base, whole) ?? {}]),
      );
      const description = unmarked(r.description);
      return {
        id: r.id,
        displayName: r.displayName,
        ...(description !== null && { description }),
        privileged: r.privileged,
        targets: r.targets,
        ...(policy !== undefined && { policy: policy as Partial<RolePolicy> }),
        ...(Object.keys(scopes).length > 0 && { scopes }),
      };
    });
  const groups = [...live.groups].sort(byId).map((g) => {
    const description = unmarked(g.description);
    return { id: g.id, displayName: g.displayName, ...(description !== null && { description }) };
  });
  const key = (e: LiveEligibility) => `${e.principalType}:${e.principalId} ${e.roleId} ${e.scope}`;
  const eligibility = [...live.eligibility]
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    .map((e) => ({
      principal: { type: e.principalType, id: e.principalId },
      role: e.roleId,
      scope: e.scope,
      expiration: e.endDateTime ?? 'never',
    }));
  return {
    apiVersion: 'elevate/v1',
    roles,
    groups,
    eligibility,
    accessReviews: [...live.reviews].sort((a, b) => (a.displayName < b.displayName ? -1 : 1)).map(reviewInputOf),
    alertSettings: live.alertSettings,
  };
}

export async function runExport(ctx: Context, values: Values): Promise<number> {
  const live = await readLive(ctx.rawClient());
  const doc = exportFile(live);
  const managed = live.roles.filter((r) => isManagedText(r.description)).length;
  const text = `# Exported by \`elevate export\` from ${ctx.apiUrl()} (docs/policy-as-code.md)\n${stringify(doc, { lineWidth: 0 })}`;
  const out = str(values.output);
  if (ctx.out.json && !out) ctx.out.data(doc);
  else if (out) {
    await writeFile(out, text);
    ctx.out.note(`Wrote ${out}: ${live.roles.filter((r) => !r.builtIn).length} role(s) (${managed} managed).`);
  } else ctx.out.stdout.write(text);
  return EXIT.ok;
}
