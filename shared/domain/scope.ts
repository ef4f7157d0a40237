import * as z from 'zod';

/**
 * Scopes are paths: `/`, `/accounts/123456789012`, `/accounts/123456789012/regions/eu-west-1`, and the AWS
 * Organizations units `/ous/<ou-id>`. An assignment at scope S covers S and every scope below it; one at an OU
 * covers too every account under that OU (at any depth) and every scope below those accounts, as the
 * organization is at the time of the check (provisioning.md, "Organization scopes").
 */
export const MAX_SCOPE_LENGTH = 512;
const SEGMENT = /^[A-Za-z0-9_:@+=,-][A-Za-z0-9._:@+=,-]*$/;
const ACCOUNT_SCOPE = /^\/accounts\/(\d{12})(\/|$)/;
const OU_SCOPE = /^\/ous\/(ou-[a-z0-9]{1,32}-[a-z0-9]{1,32})(\/|$)/;

export function scopeProblem(scope: string): string | undefined {
  if (scope === '/') return undefined;
  if (!scope.startsWith('/')) return 'a scope starts with /';
  if (scope.length > MAX_SCOPE_LENGTH) return `a scope is at most ${MAX_SCOPE_LENGTH} characters`;
  if (scope.endsWith('/')) return 'a scope other than / does not end with /';
  const segments = scope.slice(1).split('/');
  if (segments.length > 16) return 'a scope has at most 16 segments';
  for (const s of segments) {
    if (!SEGMENT.test(s) || s === '.' || s === '..') return `'${s}' is not a valid scope segment`;
  }
  return undefined;
}

export const Scope = z
  .string()
  .superRefine((value, ctx) => {
    const problem = scopeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description: 'A path: /, /accounts/123456789012/..., or an organizational unit /ous/ou-abcd-12345678',
    examples: ['/', '/accounts/123456789012', '/ous/ou-abcd-12345678'],
  });

/** The account a scope names (`/accounts/<12 digits>` or a scope below it), else undefined. */
export function accountOfScope(scope: string): string | undefined {
  return ACCOUNT_SCOPE.exec(scope)?.[1];
}

/** The organizational unit a scope names (`/ous/<ou-id>` or below it), else undefined. */
export function ouOfScope(scope: string): string | undefined {
  return OU_SCOPE.exec(scope)?.[1];
}

export const accountScope = (accountId: string): string => `/accounts/${accountId}`;
export const ouScope = (ouId: string): string => `/ous/${ouId}`;

/** Does an assignment at `held` cover a request at `wanted`, by the paths alone? */
export function covers(held: string, wanted: string): boolean {
  if (held === '/') return true;
  return wanted === held || wanted.startsWith(`${held}/`);
}

/**
 * Does an assignment at `held` cover a request at `wanted`, the organization considered? `ancestorsOfWanted`
 * are the ids of the organizational units (and root) above the account or OU that `wanted` names, as the
 * organization is now (empty when it names neither, or is not in the organization). An OU scope covers what
 * lies under the OU; the paths rule holds for the rest.
 */
export function coversInOrganization(held: string, wanted: string, ancestorsOfWanted: readonly string[]): boolean {
  if (covers(held, wanted)) return true;
  const ou = ouOfScope(held);
  // Only a scope that is the OU itself reaches into the accounts under it (`/ous/x/regions/y` is a path).
  if (!ou || held !== ouScope(ou)) return false;
  return ancestorsOfWanted.includes(ou);
}

/** The account or OU whose place in the organization decides what covers `wanted` (undefined: paths only). */
export function organizationNodeOf(scope: string): { type: 'account' | 'organizationalUnit'; id: string } | undefined {
  const account = accountOfScope(scope);
  if (account) return { type: 'account', id: account };
  const ou = ouOfScope(scope);
  if (ou) return { type: 'organizationalUnit', id: ou };
  return undefined;
}

/** A root, OU or account of the AWS organization, as the organization-sync job last copied it. */
export const OrgNode = z.object({
  scope: z.string(),
  type: z.enum(['root', 'organizationalUnit', 'account']),
  id: z.string(),
  name: z.string(),
  parentScope: z.string().nullable(),
  /** The ids of the root and OUs above it, from the root down (what `/ous/<id>` coverage reads). */
  ancestors: z.array(z.string()),
  /** An account's state in the organization (ACTIVE, SUSPENDED...); null for roots and OUs. */
  status: z.string().nullable(),
  /** When the sync job last wrote it (a change). */
  updatedAt: z.string(),
});
export type OrgNode = z.infer<typeof OrgNode>;

/** A node as GET /v1/scopes shows it. */
export const ScopeItem = OrgNode.pick({ scope: true, type: true, id: true, name: true, parentScope: true }).meta({
  id: 'ScopeItem',
});
export type ScopeItem = z.infer<typeof ScopeItem>;
