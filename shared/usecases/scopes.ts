import type { Deps } from '../deps.ts';
import { SYSTEM_ACTOR } from '../domain/audit.ts';
import {
  accountScope,
  coversInOrganization,
  organizationNodeOf,
  ouOfScope,
  ouScope,
  type ScopeItem,
} from '../domain/scope.ts';
import { log } from '../log.ts';
import type { OrgAccount, OrgUnit } from '../ports/organizations.ts';
import { keys, type OrgNodeRecord, ops, queries, stored, type WriteOp } from '../store/records.ts';
import type { Page, Store } from '../store/store.ts';
import { auditEvent, type CallContext } from './context.ts';

/**
 * Organization scopes (provisioning.md): `/ous/<ou-id>` covers the accounts under that OU, as the organization was
 * at the last run of the `organization-sync` job, which copies the AWS Organizations tree into the table.
 */
const present = (n: OrgNodeRecord): ScopeItem => ({
  scope: n.scope,
  type: n.type,
  id: n.id,
  name: n.name,
  parentScope: n.parentScope,
});

/** GET /v1/scopes: the organization as scopes, in scope order (empty without Organizations). */
export async function listScopes(
  ctx: CallContext,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<ScopeItem>> {
  return ctx.store.page([queries.scopes()], { ...page, map: (item) => present(stored.orgNode.fromItem(item)) });
}

/** The ids of the root and OUs above the account or OU that `scope` names (empty when it names neither). */
export async function organizationAncestors(store: Store, scope: string): Promise<string[]> {
  const node = organizationNodeOf(scope);
  if (!node) return [];
  const item = await store.get(keys.orgNode(node.id), false);
  return item ? stored.orgNode.fromItem(item).ancestors : [];
}

/**
 * Of assignments (each with a scope), those that cover `wanted`, the organization considered. The organization is
 * read only when one of them is held at an OU (one read).
 */
export async function coveringInOrganization<T extends { scope: string }>(
  store: Store,
  held: readonly T[],
  wanted: string,
): Promise<T[]> {
  const ancestors = held.some((a) => ouOfScope(a.scope)) ? await organizationAncestors(store, wanted) : [];
  return held.filter((a) => coversInOrganization(a.scope, wanted, ancestors));
}

/** AWS allows 5 levels of OUs and (by default) some thousands of accounts; the walk stops well past that. */
const MAX_NODES = 20_000;
/** Writes per transaction (DynamoDB allows 100, the audit event and its chain head take two). */
const CHUNK = 90;

export interface SyncResult {
  skipped?: string;
  nodes: number;
  added: number;
  removed: number;
  changed: number;
}

/** The tree as AWS Organizations answers it now, as records. */
async function readOrganization(deps: Deps, at: string): Promise<OrgNodeRecord[]> {
  const orgs = deps.provisioning?.organizations;
  if (!orgs) return [];
  const found: OrgNodeRecord[] = [];
  const roots = await orgs.listRoots();
  const root = roots[0];
  if (!root) return [];
  const rootRecord: OrgNodeRecord = {
    scope: '/',
    type: 'root',
    id: root.id,
    name: root.name,
    parentScope: null,
    ancestors: [],
    status: null,
    updatedAt: at,
  };
  found.push(rootRecord);
  const queue: OrgNodeRecord[] = [rootRecord];
  while (queue.length) {
    const parent = queue.shift() as OrgNodeRecord;
    const { units, accounts } = await orgs.listChildren(parent.id);
    const ancestors = [...parent.ancestors, parent.id];
    for (const u of units as OrgUnit[]) {
      const record: OrgNodeRecord = {
        scope: ouScope(u.id),
        type: 'organizationalUnit',
        id: u.id,
        name: u.name,
        parentScope: parent.scope,
        ancestors,
        status: null,
        updatedAt: at,
      };
      found.push(record);
      queue.push(record);
    }
    for (const a of accounts as OrgAccount[]) {
      found.push({
        scope: accountScope(a.id),
        type: 'account',
        id: a.id,
        name: a.name,
        parentScope: parent.scope,
        ancestors,
        status: a.status,
        updatedAt: at,
      });
    }
    if (found.length > MAX_NODES)
      throw new Error(`the organization has more than ${MAX_NODES} roots, OUs and accounts`);
  }
  return found;
}

const same = (a: OrgNodeRecord, b: OrgNodeRecord): boolean =>
  a.scope === b.scope &&
  a.type === b.type &&
  a.name === b.name &&
  a.parentScope === b.parentScope &&
  a.status === b.status &&
  a.ancestors.join('/') === b.ancestors.join('/');

/**
 * The `organization-sync` job (hourly): reads AWS Organizations and writes what changed (new, moved, renamed,
 * suspended, removed roots, OUs and accounts), each batch of changes with its `organization.synced` audit event.
 * Nothing changed: nothing written. Without Organizations configured it does nothing.
 */
export async function syncOrganization(deps: Deps): Promise<SyncResult> {
  if (!deps.provisioning) {
    log('info', 'organization-sync: IAM Identity Center / Organizations is not configured; skipped');
    return { skipped: 'not configured', nodes: 0, added: 0, removed: 0, changed: 0 };
  }
  const now = deps.clock.now();
  const at = now.toISOString();
  const current = await readOrganization(deps, at);
  const inTable = new Map(
    (await deps.store.all(queries.scopes())).map((item) => {
      const n = stored.orgNode.fromItem(item);
      return [n.id, n] as const;
    }),
  );
  const changes: { write: WriteOp; change: Record<string, unknown> }[] = [];
  let added = 0;
  let changed = 0;
  const seen = new Set<string>();
  for (const node of current) {
    seen.add(node.id);
    const before = inTable.get(node.id);
    if (before && same(before, node)) continue;
    if (before) changed += 1;
    else added += 1;
    changes.push({
      write: ops.putOrgNode(node),
      change: before
        ? {
            change: 'changed',
            scope: node.scope,
            before: { parentScope: before.parentScope, name: before.name, status: before.status },
            after: { parentScope: node.parentScope, name: node.name, status: node.status },
          }
        : { change: 'added', scope: node.scope, parentScope: node.parentScope, name: node.name },
    });
  }
  let removed = 0;
  for (const [id, before] of inTable) {
    if (seen.has(id)) continue;
    removed += 1;
    changes.push({ write: ops.deleteOrgNode(id), change: { change: 'removed', scope: before.scope } });
  }
  for (let i = 0; i < changes.length; i += CHUNK) {
    const batch = changes.slice(i, i + CHUNK);
    await deps.store.transact([
      ...batch.map((c) => c.write),
      ops.audit(
        auditEvent(
          now,
          SYSTEM_ACTOR,
          'organization.synced',
          {},
          {
            changes: batch.map((c) => c.change),
            part: Math.floor(i / CHUNK) + 1,
            parts: Math.ceil(changes.length / CHUNK),
          },
        ),
      ),
    ]);
  }
  const result = { nodes: current.length, added, removed, changed };
  log('info', 'organization-sync done', { ...result });
  return result;
}
