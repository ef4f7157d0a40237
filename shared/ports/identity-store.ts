import type { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SDK_SINGLE_ATTEMPT } from '../retry.ts';
import { lazyClient } from './lazy.ts';
import { DEFAULT_RETRY, isNotFound, type RetryPolicy, withBackoff } from './retry.ts';

/**
 * The identity store port: finding the Identity Center user of a principal, checking groups, and group
 * memberships. AWS_ENDPOINT_URL_IDENTITYSTORE points the SDK elsewhere (the local stand-in, an emulator).
 */
export type UserLookup = { userName: string } | { email: string };

export interface GroupMembership {
  membershipId: string;
  groupId: string;
  userId: string;
}

export interface IdentityStore {
  readonly identityStoreId: string;
  /** The user id of the user with that UserName or primary e-mail, or null when there is none. */
  findUserId(by: UserLookup): Promise<string | null>;
  /** The UserName of an Identity Center user (null: no such user). */
  userName(userId: string): Promise<string | null>;
  groupExists(groupId: string): Promise<boolean>;
  /** The membership id of the user in the group, or null when the user is not a member. */
  membershipId(groupId: string, userId: string): Promise<string | null>;
  createMembership(groupId: string, userId: string): Promise<string>;
  deleteMembership(membershipId: string): Promise<void>;
  /** Every (user) membership of a group (all pages). */
  listMemberships(groupId: string): Promise<GroupMembership[]>;
}

export class AwsIdentityStore implements IdentityStore {
  /** The SDK is loaded on first use (see lazy.ts); one attempt per call, the retries are `withBackoff`'s. */
  readonly #ids = lazyClient(
    () => import('@aws-sdk/client-identitystore'),
    (m) => new m.IdentitystoreClient({ maxAttempts: SDK_SINGLE_ATTEMPT }),
  );

  constructor(
    readonly identityStoreId: string,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /** The client (public for tests). */
  client(): Promise<IdentitystoreClient> {
    return this.#ids.client();
  }

  async findUserId(by: UserLookup): Promise<string | null> {
    const { sdk, client } = await this.#ids.get();
    const [path, value] = 'userName' in by ? ['userName', by.userName] : ['emails.value', by.email];
    try {
      const out = await withBackoff(
        () =>
          client.send(
            new sdk.GetUserIdCommand({
              IdentityStoreId: this.identityStoreId,
              AlternateIdentifier: { UniqueAttribute: { AttributePath: path, AttributeValue: value } },
            }),
          ),
        this.retry,
      );
      return out.UserId ?? null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** The UserName of an Identity Center user (null when there is no such user): the session fence names it. */
  async userName(userId: string): Promise<string | null> {
    const { sdk, client } = await this.#ids.get();
    try {
      const out = await withBackoff(
        () => client.send(new sdk.DescribeUserCommand({ IdentityStoreId: this.identityStoreId, UserId: userId })),
        this.retry,
      );
      return out.UserName ?? null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async groupExists(groupId: string): Promise<boolean> {
    const { sdk, client } = await this.#ids.get();
    try {
      const out = await withBackoff(
        () => client.send(new sdk.DescribeGroupCommand({ IdentityStoreId: this.identityStoreId, GroupId: groupId })),
        this.retry,
      );
      return out.GroupId === groupId;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async membershipId(groupId: string, userId: string): Promise<string | null> {
    const { sdk, client } = await this.#ids.get();
    try {
      const out = await withBackoff(
        () =>
          client.send(
            new sdk.GetGroupMembershipIdCommand({
              IdentityStoreId: this.identityStoreId,
              GroupId: groupId,
              MemberId: { UserId: userId },
            }),
          ),
        this.retry,
      );
      return out.MembershipId ?? null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async createMembership(groupId: string, userId: string): Promise<string> {
    const { sdk, client } = await this.#ids.get();
    const out = await withBackoff(
      () =>
        client.send(
          new sdk.CreateGroupMembershipCommand({
            IdentityStoreId: this.identityStoreId,
            GroupId: groupId,
            MemberId: { UserId: userId },
          }),
        ),
      this.retry,
    );
    if (!out.MembershipId) throw new Error('the identity store answered CreateGroupMembership without a membership id');
    return out.MembershipId;
  }

  async deleteMembership(membershipId: string): Promise<void> {
    const { sdk, client } = await this.#ids.get();
    await withBackoff(
      () =>
        client.send(
          new sdk.DeleteGroupMembershipCommand({ IdentityStoreId: this.identityStoreId, MembershipId: membershipId }),
        ),
      this.retry,
    );
  }

  async listMemberships(groupId: string): Promise<GroupMembership[]> {
    const { sdk, client } = await this.#ids.get();
    const found: GroupMembership[] = [];
    let token: string | undefined;
    do {
      const out = await withBackoff(
        () =>
          client.send(
            new sdk.ListGroupMembershipsCommand({
              IdentityStoreId: this.identityStoreId,
              GroupId: groupId,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        this.retry,
      );
      for (const m of out.GroupMemberships ?? []) {
        const userId = m.MemberId && 'UserId' in m.MemberId ? m.MemberId.UserId : undefined;
        if (m.MembershipId && userId) found.push({ membershipId: m.MembershipId, groupId, userId });
      }
      token = out.NextToken;
    } while (token);
    return found;
  }
}
