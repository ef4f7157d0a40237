import { createHash } from 'node:crypto';
import { durationMs } from './duration.ts';

/**
 * The session fence (provisioning.md, "Sessions end when access ends"). Deleting an account assignment does not end
 * the sessions Identity Center already issued; they last up to the permission set's SessionDuration. So when a
 * grant's assignment is removed, the permission set's inline policy gets a Deny of every action for that user's role
 * sessions in that account issued before the end, and it is taken out again once no such session can be alive
 * (end + SessionDuration + 5 minutes).
 *
 * Elevate recognises its own statements by their Sid: `ElevateFence` followed by 16 hex digits of a hash of what
 * the statement covers. Every other statement of the inline policy is kept exactly as it is (a foreign statement
 * whose Sid starts with `ElevateFence` would be taken for Elevate's: don't name one so).
 */
export const FENCE_SID_PREFIX = 'ElevateFence';

/** How long after the session duration a statement stays (clock skew, provisioning delay). */
export const UNFENCE_GRACE_MS = 5 * 60_000;

/**
 * AWS's limits on a permission set's inline policy (IAM Identity Center quotas): 32,768 bytes in all, and 10,240
 * non-whitespace characters. Elevate writes its statements without whitespace.
 */
export const INLINE_POLICY_MAX_BYTES = 32_768;
export const INLINE_POLICY_MAX_NON_WHITESPACE = 10_240;

/**
 * The user names a fence may name: what Identity Center allows in a UserName (letters, digits, `+=,.@-_`). No `*`
 * or `?`, which `StringLike` would read as wildcards and so deny other users' sessions.
 */
const FENCEABLE_USER_NAME = /^[\w+=,.@-]{1,128}$/;
const ACCOUNT_ID = /^\d{12}$/;

/** One user's sessions in one account, issued before `end`, denied until `removeAfter`. */
export interface Fence {
  userName: string;
  accountId: string;
  /** The moment the access ended, to the second (rounded up, so that no session of the grant escapes). */
  end: string;
  /** When the statement may be removed: end + SessionDuration + 5 minutes. */
  removeAfter: string;
  /** The Elevate request whose access ended (audit). */
  requestId: string;
  /** The Elevate principal (audit; null when not known). */
  principalId: string | null;
}

/** A fence that cannot be written (a refusal that must be loud: `sessionFenceFailed`). */
export class FenceRefused extends Error {
  override readonly name = 'FenceRefused';
}

export interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
  [key: string]: unknown;
}

/** `2026-12-01T10:00:00Z`: the end rounded up to the second (IAM's date format, no fraction). */
export function fenceEnd(end: Date | string): string {
  const ms = typeof end === 'string' ? Date.parse(end) : end.getTime();
  if (Number.isNaN(ms)) throw new FenceRefused(`the end '${String(end)}' is not a date`);
  return `${new Date(Math.ceil(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** end + SessionDuration + 5 minutes. */
export function removeAfter(end: string, sessionDuration: string): string {
  return new Date(Date.parse(end) + durationMs(sessionDuration) + UNFENCE_GRACE_MS).toISOString();
}

export function newFence(input: {
  userName: string;
  accountId: string;
  end: Date | string;
  sessionDuration: string;
  requestId: string;
  principalId?: string | null;
}): Fence {
  if (!FENCEABLE_USER_NAME.test(input.userName)) {
    throw new FenceRefused(
      `the user name '${input.userName}' cannot be fenced: a condition on aws:userid would match other users`,
    );
  }
  if (!ACCOUNT_ID.test(input.accountId)) throw new FenceRefused(`'${input.accountId}' is not an account id`);
  const end = fenceEnd(input.end);
  return {
    userName: input.userName,
    accountId: input.accountId,
    end,
    removeAfter: removeAfter(end, input.sessionDuration),
    requestId: input.requestId,
    principalId: input.principalId ?? null,
  };
}

const sidOf = (accounts: readonly string[], end: string, users: readonly string[]): string =>
  `${FENCE_SID_PREFIX}${createHash('sha256')
    .update(JSON.stringify([accounts, end, users]))
    .digest('hex')
    .slice(0, 16)}`;

const oneOrMany = (values: readonly string[]): string | string[] =>
  values.length === 1 ? (values[0] as string) : [...values];

/**
 * The Deny of the contract: sessions of these users (`aws:userid` ends `:<UserName>`) in these accounts issued
 * before `end`. With one user and one account it is exactly the contract's statement; more users (or accounts)
 * are the same condition with a list of values (any of them matches).
 */
export function fenceStatement(
  userNames: string | readonly string[],
  accountIds: string | readonly string[],
  end: string,
): PolicyStatement {
  const users = [...(typeof userNames === 'string' ? [userNames] : userNames)].sort();
  const accounts = [...(typeof accountIds === 'string' ? [accountIds] : accountIds)].sort();
  return {
    Sid: sidOf(accounts, end, users),
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      StringLike: { 'aws:userid': oneOrMany(users.map((u) => `*:${u}`)) },
      StringEquals: { 'aws:PrincipalAccount': oneOrMany(accounts) },
      DateLessThan: { 'aws:TokenIssueTime': end },
    },
  };
}

export const isElevateStatement = (s: unknown): boolean =>
  typeof s === 'object' && s !== null && typeof (s as { Sid?: unknown }).Sid === 'string'
    ? (s as { Sid: string }).Sid.startsWith(FENCE_SID_PREFIX)
    : false;

const later = (a: string, b: string): string => (a >= b ? a : b);

/**
 * The fences with one more. A user's fence in an account covers every earlier one of that user and account (a Deny
 * of sessions issued before a later end is a superset), so one (user, account) keeps one fence: the later end, and
 * the later removal time.
 */
export function addFence(fences: readonly Fence[], fence: Fence): Fence[] {
  const same = fences.find((f) => f.userName === fence.userName && f.accountId === fence.accountId);
  if (!same) return [...fences, fence];
  const merged: Fence =
    fence.end > same.end
      ? { ...fence, removeAfter: later(fence.removeAfter, same.removeAfter) }
      : { ...same, removeAfter: later(fence.removeAfter, same.removeAfter) };
  return fences.map((f) => (f === same ? merged : f));
}

/** The fences whose time has come (`removeAfter` passed) and the others. */
export function dueFences(fences: readonly Fence[], now: Date): { due: Fence[]; kept: Fence[] } {
  const at = now.toISOString();
  return {
    due: fences.filter((f) => f.removeAfter <= at),
    kept: fences.filter((f) => f.removeAfter > at),
  };
}

/**
 * Elevate's statements for the fences, as few as is exact: the users of one account and end share a statement,
 * then statements of one end and the same users share their accounts. (Merging different ends would deny sessions
 * a user was granted again after the earlier end; merging users and accounts that are not a full product would
 * deny a user in an account where their access did not end.)
 */
export function coalesce(fences: readonly Fence[]): PolicyStatement[] {
  const byAccountEnd = new Map<string, { accountId: string; end: string; users: Set<string> }>();
  for (const f of fences) {
    const key = `${f.accountId}|${f.end}`;
    const group = byAccountEnd.get(key) ?? { accountId: f.accountId, end: f.end, users: new Set<string>() };
    group.users.add(f.userName);
    byAccountEnd.set(key, group);
  }
  const byEndUsers = new Map<string, { end: string; users: string[]; accounts: string[] }>();
  for (const g of byAccountEnd.values()) {
    const users = [...g.users].sort();
    const key = `${g.end}|${users.join(',')}`;
    const group = byEndUsers.get(key) ?? { end: g.end, users, accounts: [] };
    group.accounts.push(g.accountId);
    byEndUsers.set(key, group);
  }
  return [...byEndUsers.values()]
    .map((g) => fenceStatement(g.users, g.accounts.sort(), g.end))
    .sort((a, b) => (a.Sid ?? '').localeCompare(b.Sid ?? ''));
}

export interface PolicySize {
  bytes: number;
  nonWhitespace: number;
}

export function policySize(text: string): PolicySize {
  return { bytes: Buffer.byteLength(text, 'utf8'), nonWhitespace: text.replace(/\s/g, '').length };
}

export const withinLimits = (s: PolicySize): boolean =>
  s.bytes <= INLINE_POLICY_MAX_BYTES && s.nonWhitespace <= INLINE_POLICY_MAX_NON_WHITESPACE;

interface ParsedPolicy {
  /** The document's other members (Version, Id...), in their order. */
  rest: Record<string, unknown>;
  foreign: unknown[];
}

function parsePolicy(text: string | null): ParsedPolicy {
  if (text === null || text.trim() === '') return { rest: { Version: '2012-10-17' }, foreign: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new FenceRefused('the inline policy of the permission set is not JSON; Elevate does not overwrite it');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new FenceRefused('the inline policy of the permission set is not a policy document');
  }
  const { Statement, ...rest } = doc as Record<string, unknown>;
  const statements = Statement === undefined ? [] : Array.isArray(Statement) ? Statement : [Statement];
  return { rest, foreign: statements.filter((s) => !isElevateStatement(s)) };
}

export type RenderedPolicy =
  | { kind: 'policy'; policy: string; size: PolicySize }
  /** Nothing left (no foreign statement, no fence, no policy before): the inline policy is deleted. */
  | { kind: 'none' }
  | { kind: 'tooLarge'; size: PolicySize };

/**
 * The inline policy with Elevate's statements for `fences` in place of the ones it had: every foreign statement
 * and member kept as it was (in its order, Elevate's after them), written without whitespace. `tooLarge` when it
 * would not fit AWS's limits even coalesced.
 */
export function renderPolicy(current: string | null, fences: readonly Fence[]): RenderedPolicy {
  const { rest, foreign } = parsePolicy(current);
  const ours = coalesce(fences);
  if (ours.length === 0 && foreign.length === 0 && Object.keys(rest).every((k) => k === 'Version')) {
    return { kind: 'none' };
  }
  const policy = JSON.stringify({ ...rest, Statement: [...foreign, ...ours] });
  const size = policySize(policy);
  return withinLimits(size) ? { kind: 'policy', policy, size } : { kind: 'tooLarge', size };
}

/** A ProvisionPermissionSet that had not ended when its caller stopped waiting: the reconcile job follows it. */
export interface PendingProvisioning {
  accountId: string;
  requestId: string;
  startedAt: string;
  /** Why the permission set was provisioned: a fence put in, or fences taken out. */
  purpose: 'fence' | 'unfence';
}

/** When the reconcile job next has work on a permission set's fences (null: none): a removal, or a provisioning. */
export function fenceRecordDue(r: {
  fences: readonly Fence[];
  pending: readonly PendingProvisioning[];
}): string | null {
  const times = [...r.fences.map((f) => f.removeAfter), ...r.pending.map((p) => p.startedAt)].sort();
  return times[0] ?? null;
}
