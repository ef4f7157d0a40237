import type { Deps, ProvisioningPorts } from '../deps.ts';
import type { AssignmentType } from '../domain/assignment.ts';
import { DomainError } from '../domain/errors.ts';
import { type PrincipalType, userRef } from '../domain/primitives.ts';
import { provisioningAccount, type Target } from '../domain/targets.ts';
import { keys, stored, type TargetsRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';

/**
 * Provisioning into AWS IAM Identity Center (provisioning.md): the role's targets, and the checks made against
 * AWS before anything is written. (Creating and removing the assignments in the workflow is not wired yet; see
 * docs/provisioning.md.)
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
 * reason in `detail`). Eligible assignments are never provisioned and are not checked. A group principal's
 * members are found when they are provisioned, so no user is looked up for it here.
 */
export async function checkGrantReady(
  deps: Pick<Deps, 'provisioning' | 'store' | 'config'>,
  g: GrantToCheck,
  known?: readonly Target[],
): Promise<void> {
  if (g.assignmentType !== 'active') return;
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
  const { userId, lookedUp } = await identityCenterUserId(deps, ports, principalId);
  if (userId) return null;
  return lookedUp.startsWith('no e-mail') ? lookedUp : `no IAM Identity Center user ${lookedUp}`;
}

async function accountProblem(ports: ProvisioningPorts, accountId: string): Promise<string | null> {
  const account = await ports.organizations.describeAccount(accountId);
  if (!account) return `account ${accountId} is not a member of the organization`;
  if (account.status !== 'ACTIVE') return `account ${accountId} is ${account.status}, not ACTIVE`;
  return null;
}
