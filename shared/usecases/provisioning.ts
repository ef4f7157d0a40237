import type { Deps, ProvisioningPorts } from '../deps.ts';
import { type Assignment, type AssignmentType, inForce, isLive } from '../domain/assignment.ts';
import { DomainError } from '../domain/errors.ts';
import { groupOfRole, memberRole } from '../domain/group.ts';
import { type PrincipalType, userRef } from '../domain/primitives.ts';
import type { Member } from '../domain/provisioning.ts';
import { provisioningAccount, type Target } from '../domain/targets.ts';
import { keys, queries, stored, type TargetsRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import { fromLiveSlot, toAssignment } from './assignments.ts';

/**
 * Provisioning into AWS IAM Identity Center (provisioning.md): the role's targets, and the checks made against
 * AWS before anything is written (the workflow's steps: provisioning-steps.ts; group-held grants:
 * group-provisioning.ts).
 */
export async function readTargets(store: Store, roleId: string): Promise<TargetsRecord | undefined> {
  const item = await store.get(keys.targets(roleId));
  return item ? stored.targets.fromItem(item) : undefined;
}

const notReady = (reasons: string[]) => new DomainError('TargetNotReady', reasons.join('; '));

function portsOrRefuse(deps: Pick<Deps, 'provisioning'>): ProvisioningPorts {
  if (!deps.provisioning) {
    throw notReady([
      'IAM Identity Center is not configured (ELEVATE_IDC_INSTANCE_ARN and ELEVATE_IDENTITY_STORE_ID; CDK parameters IdentityCenterInstanceArn and IdentityStoreId)',
    ]);
  }
  return deps.provisioning;
}

/** Why each target is not there in AWS (empty: all exist). */
async function missingTargets(ports: ProvisioningPorts, targets: readonly Target[]): Promise<string[]> {
  const found = await Promise.all(
    targets.map(async (t) => {
      if (t.type === 'identityCenterAccountAssignment') {
        const ps = await ports.identityCenter.describePermissionSet(t.permissionSetArn);
        return ps ? null : `permission set ${t.permissionSetArn} does not exist in the Identity Center instance`;
      }
      return (await ports.identityStore.groupExists(t.groupId))
        ? null
        : `group ${t.groupId} does not exist in the identity store`;
    }),
  );
  return found.filter((r): r is string => r !== null);
}

/** PUT /v1/roles/{roleId}/targets: every permission set and group named exists (400 TargetNotReady otherwise). */
export async function checkTargetsExist(deps: Pick<Deps, 'provisioning'>, targets: readonly Target[]): Promise<void> {
  if (targets.length === 0) return;
  const reasons = await missingTargets(portsOrRefuse(deps), targets);
  if (reasons.length) throw notReady(reasons);
}

export interface GrantToCheck {
  roleId: string;
  principalId: string;
  principalType: PrincipalType;
  assignmentType: AssignmentType;
  scope: string;
}

/**
 * The pre-grant checks (provisioning.md, "What is provisioned"): before an active assignment of a role with
 * targets is written (also under validateOnly), the scope names one account when an account assignment needs one
 * (400 ScopeNotProvisionable), and AWS has what the grant needs: the Identity Center user of the principal, the
 * account as an ACTIVE member of the organization, each permission set and group (400 TargetNotReady, every
 * reason in `detail`). Eligible assignments are never provisioned and are not checked. A grant held by a group
 * needs an Identity Center user for each of its active members; a membership of a group that holds provisioned
 * grants needs one for the member.
 */
export async function checkGrantReady(
  deps: Pick<Deps, 'provisioning' | 'store' | 'config' | 'clock'>,
  g: GrantToCheck,
  known?: readonly Target[],
): Promise<void> {
  if (g.assignmentType !== 'active') return;
  const now = deps.clock.now();
  const group = groupOfRole(g.roleId);
  if (g.principalType === 'user' && group?.relation === 'member') {
    if ((await liveGroupGrants(deps.store, group.groupId, now)).length) {
      const { problem } = await userOrRefuse(deps, portsOrRefuse(deps), g.principalId);
      if (problem) throw notReady([`the group '${group.groupId}' holds access provisioned in AWS: ${problem}`]);
    }
  }
  // The role's targets, as the caller already read them (readRoleInForce), or read now.
  const targets = known ?? (await readTargets(deps.store, g.roleId))?.targets ?? [];
  if (targets.length === 0) return;
  const account = provisioningAccount(targets, g.scope);
  if (account === null) {
    throw new DomainError(
      'ScopeNotProvisionable',
      `role '${g.roleId}' is provisioned as an IAM Identity Center account assignment: an active assignment's scope names one account (/accounts/<12 digits> or below it), not '${g.scope}'`,
    );
  }
  const ports = portsOrRefuse(deps);
  const checks: Promise<string | null>[] = [
    missingTargets(ports, targets).then((r) => (r.length ? r.join('; ') : null)),
  ];
  if (g.principalType !== 'group') checks.push(userProblem(deps, ports, g.principalId));
  else {
    checks.push(
      groupMembersReady(deps, ports, g.principalId, now).then((r) =>
        r.problems.length ? r.problems.join('; ') : null,
      ),
    );
  }
  if (account) checks.push(accountProblem(ports, account));
  const reasons = (await Promise.all(checks)).filter((r): r is string => r !== null);
  if (reasons.length) throw notReady(reasons);
}

/** How the principal is found among the Identity Center users (IdentityCenterUserAttribute). */
export async function identityCenterUserId(
  deps: Pick<Deps, 'store' | 'config'>,
  ports: ProvisioningPorts,
  principalId: string,
): Promise<{ userId: string | null; lookedUp: string }> {
  if (deps.config.identityCenter?.userAttribute === 'email') {
    const item = await deps.store.get(keys.principal(userRef(principalId)), false);
    const email = item ? stored.principal.fromItem(item).email : null;
    if (!email) return { userId: null, lookedUp: `no e-mail is recorded for '${principalId}'` };
    return { userId: await ports.identityStore.findUserId({ email }), lookedUp: `with the primary e-mail ${email}` };
  }
  return {
    userId: await ports.identityStore.findUserId({ userName: principalId }),
    lookedUp: `with the UserName '${principalId}'`,
  };
}

async function userProblem(
  deps: Pick<Deps, 'store' | 'config'>,
  ports: ProvisioningPorts,
  principalId: string,
): Promise<string | null> {
  return (await userOrRefuse(deps, ports, principalId)).problem;
}

async function accountProblem(ports: ProvisioningPorts, accountId: string): Promise<string | null> {
  const account = await ports.organizations.describeAccount(accountId);
  if (!account) return `account ${accountId} is not a member of the organization`;
  if (account.status !== 'ACTIVE') return `account ${accountId} is ${account.status}, not ACTIVE`;
  return null;
}

/** The active, in-force memberships of a group now (its member role's active assignments held by users). */
async function activeMemberships(store: Store, groupId: string, now: Date): Promise<Assignment[]> {
  const found: Assignment[] = [];
  for await (const item of store.stream(queries.assignmentsOfRole(memberRole(groupId)))) {
    const m = toAssignment(item);
    if (m.assignmentType === 'active' && m.principalType === 'user' && isLive(m) && inForce(m, now)) found.push(m);
  }
  return found;
}

/** The group a membership assignment (an active grant of a group's member role to a user) makes its holder a member of. */
export function groupOfMembership(m: Assignment): string | undefined {
  const g = groupOfRole(m.roleId);
  return g?.relation === 'member' && m.assignmentType === 'active' && m.principalType === 'user'
    ? g.groupId
    : undefined;
}

/** The live grants a group holds that are provisioned per member (read from their records: the version to guard). */
export async function liveGroupGrants(store: Store, groupId: string, now: Date): Promise<Assignment[]> {
  const slots = await store.all(queries.live({ principalType: 'group', principalId: groupId }));
  const grants: Assignment[] = [];
  for (const slot of slots) {
    const s = fromLiveSlot(slot);
    if (s.assignmentType !== 'active' || !s.provisioning?.members || !inForce(s, now)) continue;
    const item = await store.get(keys.assignment(s.id));
    const a = item ? toAssignment(item) : undefined;
    if (a && isLive(a) && a.provisioning?.members) grants.push(a);
  }
  return grants;
}

/** The principal's Identity Center user, or why there is none. */
export async function userOrRefuse(
  deps: Pick<Deps, 'store' | 'config'>,
  ports: ProvisioningPorts,
  principalId: string,
): Promise<{ userId: string | null; problem: string | null }> {
  const { userId, lookedUp } = await identityCenterUserId(deps, ports, principalId);
  if (userId) return { userId, problem: null };
  return {
    userId: null,
    problem: lookedUp.startsWith('no e-mail') ? lookedUp : `no IAM Identity Center user ${lookedUp}`,
  };
}

/**
 * The members of a group, with their Identity Center users, as a grant held by the group needs them: refuses
 * (TargetNotReady, every member without one named) rather than provision some members and not others.
 */
export async function groupMembersReady(
  deps: Pick<Deps, 'store' | 'config'>,
  ports: ProvisioningPorts,
  groupId: string,
  now: Date,
): Promise<{ members: Member[]; problems: string[] }> {
  const memberships = await activeMemberships(deps.store, groupId, now);
  const found = await Promise.all(
    memberships.map(async (m) => ({ m, ...(await userOrRefuse(deps, ports, m.principalId)) })),
  );
  const problems = found
    .filter((f) => f.problem !== null)
    .map((f) => `member '${f.m.principalId}' of the group '${groupId}': ${f.problem}`);
  const members = found
    .filter((f) => f.userId !== null)
    .map((f) => ({ principalId: f.m.principalId, membershipId: f.m.id, identityCenterUserId: f.userId as string }));
  return { members, problems };
}
