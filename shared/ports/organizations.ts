import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SDK_SINGLE_ATTEMPT } from '../retry.ts';
import { lazyClient } from './lazy.ts';
import { DEFAULT_RETRY, isNotFound, type RetryPolicy, withBackoff } from './retry.ts';

/**
 * The AWS Organizations port: whether an account is an ACTIVE member (pre-grant checks) and the tree of roots,
 * organizational units and accounts (the organization-sync job). AWS_ENDPOINT_URL_ORGANIZATIONS points the SDK
 * elsewhere (the local stand-in, an emulator).
 */
export interface OrgAccount {
  id: string;
  name: string;
  /** `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ... (the account's State, else its older Status). */
  status: string;
}

export interface OrgUnit {
  id: string;
  name: string;
}

export interface Organizations {
  /** The account, or null when it is not a member of the organization. */
  describeAccount(accountId: string): Promise<OrgAccount | null>;
  listRoots(): Promise<OrgUnit[]>;
  /** The organizational units and the accounts directly under a root or OU (all pages). */
  listChildren(parentId: string): Promise<{ units: OrgUnit[]; accounts: OrgAccount[] }>;
}

type AccountShape = {
  Id?: string | undefined;
  Name?: string | undefined;
  State?: string | undefined;
  Status?: string | undefined;
};

const toAccount = (a: AccountShape): OrgAccount | null =>
  a.Id ? { id: a.Id, name: a.Name ?? a.Id, status: a.State ?? a.Status ?? 'UNKNOWN' } : null;

export class AwsOrganizations implements Organizations {
  /** The SDK is loaded on first use (see lazy.ts); one attempt per call, the retries are `withBackoff`'s. */
  readonly #org = lazyClient(
    () => import('@aws-sdk/client-organizations'),
    (m) => new m.OrganizationsClient({ maxAttempts: SDK_SINGLE_ATTEMPT }),
  );

  constructor(private readonly retry: RetryPolicy = DEFAULT_RETRY) {}

  /** The client (public for tests). */
  client(): Promise<OrganizationsClient> {
    return this.#org.client();
  }

  async describeAccount(accountId: string): Promise<OrgAccount | null> {
    const { sdk, client } = await this.#org.get();
    try {
      const out = await withBackoff(
        () => client.send(new sdk.DescribeAccountCommand({ AccountId: accountId })),
        this.retry,
      );
      return out.Account ? toAccount(out.Account) : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async listRoots(): Promise<OrgUnit[]> {
    const { sdk, client } = await this.#org.get();
    const roots: OrgUnit[] = [];
    let token: string | undefined;
    do {
      const out = await withBackoff(
        () => client.send(new sdk.ListRootsCommand({ ...(token ? { NextToken: token } : {}) })),
        this.retry,
      );
      for (const r of out.Roots ?? []) if (r.Id) roots.push({ id: r.Id, name: r.Name ?? 'Root' });
      token = out.NextToken;
    } while (token);
    return roots;
  }

  async listChildren(parentId: string): Promise<{ units: OrgUnit[]; accounts: OrgAccount[] }> {
    const { sdk, client } = await this.#org.get();
    const units: OrgUnit[] = [];
    const accounts: OrgAccount[] = [];
    let token: string | undefined;
    do {
      const out = await withBackoff(
        () =>
          client.send(
            new sdk.ListOrganizationalUnitsForParentCommand({
              ParentId: parentId,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        this.retry,
      );
      for (const u of out.OrganizationalUnits ?? []) if (u.Id) units.push({ id: u.Id, name: u.Name ?? u.Id });
      token = out.NextToken;
    } while (token);
    do {
      const out = await withBackoff(
        () =>
          client.send(
            new sdk.ListAccountsForParentCommand({ ParentId: parentId, ...(token ? { NextToken: token } : {}) }),
          ),
        this.retry,
      );
      for (const a of out.Accounts ?? []) {
        const account = toAccount(a);
        if (account) accounts.push(account);
      }
      token = out.NextToken;
    } while (token);
    return { units, accounts };
  }
}
