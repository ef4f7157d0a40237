import { invalid } from './errors.ts';
import { organizationNodeOf, ouOfScope, ouScope, scopeProblem } from './scope.ts';

/**
 * Policies per scope (issue 15): a role has its base policy at `/` and may have a whole policy of its own at any
 * other scope, for that scope and everything below it. The policy in force at a scope S is the one of the most
 * specific scope that covers S. This file is the one place that rule lives.
 */

/** Scopes with a policy of their own, besides `/`, per role (they and the role fit one DynamoDB transaction). */
export const MAX_SCOPED_POLICIES = 50;

const pathPrefixes = (scope: string): string[] => {
  const segments = scope.split('/').slice(1);
  const out: string[] = [];
  for (let n = segments.length; n > 0; n--) out.push(`/${segments.slice(0, n).join('/')}`);
  return out;
};

/**
 * The scopes that cover `wanted`, most specific first, ending with `/`. `ancestors` are the ids of the root and
 * OUs above the account or OU that `wanted` names, root first, as the organization sync last saw them (empty when
 * it names neither or is not in the organization). The order:
 * 1. `wanted` and its path prefixes down to the account or OU it names (`/accounts/1/regions/r`, `/accounts/1`);
 * 2. the OUs above that account or OU, the nearest first (`/ous/<child>`, `/ous/<parent>`): an OU scope covers
 *    the accounts under it (provisioning.md);
 * 3. the remaining path prefixes (`/accounts`), then `/`.
 * A scope that is not valid (`..`, a trailing slash, a character outside the scope alphabet) is refused, never
 * normalised into another scope.
 */
export function scopeChain(wanted: string, ancestors: readonly string[]): string[] {
  const problem = scopeProblem(wanted);
  if (problem) throw invalid(`'${wanted}' is not a scope: ${problem}`, [{ path: 'scope', message: problem }]);
  if (wanted === '/') return ['/'];
  const prefixes = pathPrefixes(wanted);
  // The account or OU a scope names is its first two segments; nothing below it is inside the organization.
  const inOrganization = organizationNodeOf(wanted) !== undefined;
  const below = inOrganization ? prefixes.filter((p) => p.split('/').length > 2) : [];
  const above = prefixes.filter((p) => !below.includes(p));
  // Only a scope that names an account or OU sits in the organization (the caller's ancestors are of that node).
  const ous = inOrganization
    ? [...ancestors]
        .reverse()
        .filter((id) => ouOfScope(ouScope(id)) === id)
        .map(ouScope)
    : [];
  return [...new Set([...below, ...ous, ...above, '/'])];
}

/**
 * The scope whose policy is in force at `wanted`: the first scope of `scopeChain` that has a policy of its own
 * (`withPolicy`), else `/` (the base policy every role has).
 */
export function policyScopeInForce(withPolicy: Iterable<string>, wanted: string, ancestors: readonly string[]): string {
  const has = new Set(withPolicy);
  return scopeChain(wanted, ancestors).find((s) => has.has(s)) ?? '/';
}

/** Whether the in-force rule needs the organization to decide `wanted` (an OU scope has a policy of its own). */
export const needsOrganization = (withPolicy: Iterable<string>, wanted: string): boolean =>
  organizationNodeOf(wanted) !== undefined && [...withPolicy].some((s) => ouOfScope(s) !== undefined);

/** Why a policy may not be set or removed at `scope` (undefined: it may). */
export function scopedPolicyProblem(
  scope: string,
  op: 'put' | 'delete',
  existing: readonly string[],
): string | undefined {
  const problem = scopeProblem(scope);
  if (problem) return problem;
  if (op === 'delete' && scope === '/') return "the base policy at '/' is not removed (it goes with its role)";
  if (op === 'put' && scope !== '/' && !existing.includes(scope) && existing.length >= MAX_SCOPED_POLICIES) {
    return `a role has policies at ${MAX_SCOPED_POLICIES} scopes at most besides /`;
  }
  return undefined;
}
