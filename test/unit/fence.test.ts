import { describe, expect, it } from 'vitest';
import {
  addFence,
  coalesce,
  dueFences,
  type Fence,
  FenceRefused,
  fenceEnd,
  fenceStatement,
  INLINE_POLICY_MAX_NON_WHITESPACE,
  isElevateStatement,
  newFence,
  policySize,
  renderPolicy,
} from '#shared/domain/fence.ts';

const fence = (userName: string, accountId: string, end: string, sessionDuration = 'PT1H'): Fence =>
  newFence({ userName, accountId, end, sessionDuration, requestId: `req-${userName}` });

const FOREIGN = {
  Sid: 'TeamReadsLogs',
  Effect: 'Allow',
  Action: ['logs:Get*', 'logs:Describe*'],
  Resource: '*',
};

describe('the session fence statement', () => {
  it('is exactly the contract: Deny * for the user in the account, tokens issued before the end', () => {
    // Act
    const s = fenceStatement('alice', '111111111111', '2026-12-01T10:00:00Z');
    // Assess
    expect(s).toEqual({
      Sid: expect.stringMatching(/^ElevateFence[0-9a-f]{16}$/),
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringLike: { 'aws:userid': '*:alice' },
        StringEquals: { 'aws:PrincipalAccount': '111111111111' },
        DateLessThan: { 'aws:TokenIssueTime': '2026-12-01T10:00:00Z' },
      },
    });
    expect(isElevateStatement(s)).toBe(true);
    expect(isElevateStatement(FOREIGN)).toBe(false);
  });

  it('rounds the end up to the second, so that no session of the grant escapes', () => {
    expect(fenceEnd('2026-12-01T10:00:00.001Z')).toBe('2026-12-01T10:00:01Z');
    expect(fenceEnd(new Date('2026-12-01T10:00:00.000Z'))).toBe('2026-12-01T10:00:00Z');
  });

  it('is removable after the session duration plus 5 minutes', () => {
    expect(fence('alice', '111111111111', '2026-12-01T10:00:00Z', 'PT4H').removeAfter).toBe('2026-12-01T14:05:00.000Z');
  });

  it.each([
    ['a wildcard in the user name', 'ali*', '111111111111'],
    ['a question mark', 'al?ce', '111111111111'],
    ['an empty user name', '', '111111111111'],
    ['a malformed account', 'alice', '1111'],
  ])('refuses %s', (_what, userName, accountId) => {
    expect(() => fence(userName, accountId, '2026-12-01T10:00:00Z')).toThrow(FenceRefused);
  });
});

describe('merging fences', () => {
  it('keeps one fence per user and account: the later end and the later removal', () => {
    // Prepare
    const early = fence('alice', '111111111111', '2026-12-01T10:00:00Z', 'PT4H');
    const late = fence('alice', '111111111111', '2026-12-01T11:00:00Z', 'PT1H');
    // Act
    const both = addFence(addFence([], early), late);
    const reversed = addFence(addFence([], late), early);
    // Assess
    for (const fences of [both, reversed]) {
      expect(fences).toHaveLength(1);
      expect(fences[0]?.end).toBe('2026-12-01T11:00:00Z');
      expect(fences[0]?.removeAfter).toBe('2026-12-01T14:05:00.000Z');
    }
  });

  it('coalesces users of one account and end, then accounts of one end and the same users; never different ends', () => {
    // Prepare
    const end = '2026-12-01T10:00:00Z';
    const fences = [
      fence('alice', '111111111111', end),
      fence('bob', '111111111111', end),
      fence('alice', '222222222222', end),
      fence('bob', '222222222222', end),
      fence('carol', '111111111111', '2026-12-01T10:30:00Z'),
    ];
    // Act
    const statements = coalesce(fences);
    // Assess
    expect(statements).toHaveLength(2);
    expect(statements.map((s) => s.Condition)).toEqual(
      expect.arrayContaining([
        {
          StringLike: { 'aws:userid': ['*:alice', '*:bob'] },
          StringEquals: { 'aws:PrincipalAccount': ['111111111111', '222222222222'] },
          DateLessThan: { 'aws:TokenIssueTime': end },
        },
        {
          StringLike: { 'aws:userid': '*:carol' },
          StringEquals: { 'aws:PrincipalAccount': '111111111111' },
          DateLessThan: { 'aws:TokenIssueTime': '2026-12-01T10:30:00Z' },
        },
      ]),
    );
  });

  it('does not merge a user into an account where their access did not end', () => {
    const end = '2026-12-01T10:00:00Z';
    const statements = coalesce([fence('alice', '111111111111', end), fence('bob', '222222222222', end)]);
    expect(statements).toHaveLength(2);
  });
});

describe('the inline policy', () => {
  it('keeps every foreign statement and member as it was, adds Elevate statements after them', () => {
    // Prepare
    const current = JSON.stringify({ Version: '2012-10-17', Id: 'team', Statement: [FOREIGN] }, null, 2);
    const fences = [fence('alice', '111111111111', '2026-12-01T10:00:00Z')];
    // Act
    const rendered = renderPolicy(current, fences);
    // Assess
    expect(rendered.kind).toBe('policy');
    const doc = JSON.parse((rendered as { policy: string }).policy);
    expect(Object.keys(doc)).toEqual(['Version', 'Id', 'Statement']);
    expect(doc.Statement[0]).toEqual(FOREIGN);
    expect(doc.Statement[1]).toEqual(fenceStatement('alice', '111111111111', '2026-12-01T10:00:00Z'));
  });

  it('replaces the Elevate statements it had and keeps a lone foreign statement object', () => {
    // Prepare
    const stale = fenceStatement('zed', '333333333333', '2026-11-01T10:00:00Z');
    const current = JSON.stringify({ Version: '2012-10-17', Statement: [FOREIGN, stale] });
    const single = JSON.stringify({ Version: '2012-10-17', Statement: FOREIGN });
    // Act
    const without = renderPolicy(current, []);
    const fromSingle = renderPolicy(single, []);
    // Assess
    expect(without).toMatchObject({ kind: 'policy' });
    expect(JSON.parse((without as { policy: string }).policy).Statement).toEqual([FOREIGN]);
    expect(JSON.parse((fromSingle as { policy: string }).policy).Statement).toEqual([FOREIGN]);
  });

  it('deletes the policy when only Elevate statements were in it and none is left', () => {
    const ours = renderPolicy(null, [fence('alice', '111111111111', '2026-12-01T10:00:00Z')]);
    expect(ours.kind).toBe('policy');
    expect(renderPolicy((ours as { policy: string }).policy, [])).toEqual({ kind: 'none' });
    expect(renderPolicy(null, [])).toEqual({ kind: 'none' });
  });

  it('refuses a policy that is not JSON rather than overwrite it', () => {
    expect(() => renderPolicy('{not json', [])).toThrow(FenceRefused);
  });

  it('stays within 10,240 non-whitespace characters by coalescing, and says tooLarge when it cannot', () => {
    // Prepare: 60 users whose access to one account ended at the same second fit in one statement; 60 different
    // ends cannot be merged.
    const end = '2026-12-01T10:00:00Z';
    const sameEnd = Array.from({ length: 60 }, (_, i) => fence(`user${i}`, '111111111111', end));
    const ends = Array.from({ length: 60 }, (_, i) =>
      fence(`user${i}`, '111111111111', new Date(Date.parse(end) + i * 60_000).toISOString()),
    );
    // Act
    const coalesced = renderPolicy(null, sameEnd);
    const apart = renderPolicy(null, ends);
    // Assess
    expect(coalesced.kind).toBe('policy');
    expect(policySize((coalesced as { policy: string }).policy).nonWhitespace).toBeLessThan(
      INLINE_POLICY_MAX_NON_WHITESPACE,
    );
    expect(apart.kind).toBe('tooLarge');
    expect((apart as { size: { nonWhitespace: number } }).size.nonWhitespace).toBeGreaterThan(
      INLINE_POLICY_MAX_NON_WHITESPACE,
    );
  });

  it('counts the foreign statements in the limit', () => {
    // Prepare: a foreign statement that leaves less room than one fence statement needs.
    const resources: string[] = [];
    const doc = () => JSON.stringify({ Version: '2012-10-17', Statement: [{ ...FOREIGN, Resource: resources }] });
    while (policySize(doc()).nonWhitespace < INLINE_POLICY_MAX_NON_WHITESPACE - 150) {
      resources.push(`arn:aws:logs:::log-group/g${resources.length}`);
    }
    const big = doc();
    expect(renderPolicy(big, []).kind).toBe('policy');
    expect(renderPolicy(big, [fence('alice', '111111111111', '2026-12-01T10:00:00Z')]).kind).toBe('tooLarge');
  });
});

describe('fences due for removal', () => {
  it('are those whose session duration plus 5 minutes has passed', () => {
    const f = fence('alice', '111111111111', '2026-12-01T10:00:00Z', 'PT1H');
    expect(dueFences([f], new Date('2026-12-01T11:04:59Z')).due).toEqual([]);
    expect(dueFences([f], new Date('2026-12-01T11:05:00Z'))).toEqual({ due: [f], kept: [] });
  });
});
