import { describe, expect, it } from 'vitest';
import { DomainError } from '#shared/domain/errors.ts';
import {
  MAX_SCOPED_POLICIES,
  needsOrganization,
  policyScopeInForce,
  scopeChain,
  scopedPolicyProblem,
} from '#shared/domain/policy-scope.ts';

const ACCOUNT = '/accounts/111111111111';
/** An account under ou-ab12-prod00001, itself under ou-ab12-parent01, under the root r-ab12. */
const ANCESTORS = ['r-ab12', 'ou-ab12-parent01', 'ou-ab12-prod00001'];

describe('which policy is in force at a scope', () => {
  it('is the base policy when the role has no other', () => {
    // Act
    const at = policyScopeInForce([], `${ACCOUNT}/regions/eu-west-1`, ANCESTORS);

    // Assess
    expect(at).toBe('/');
  });

  it('is the most specific scope that covers the request, by path', () => {
    // Prepare
    const withPolicy = ['/accounts', ACCOUNT, `${ACCOUNT}/regions/eu-west-1`];

    // Act
    const region = policyScopeInForce(withPolicy, `${ACCOUNT}/regions/eu-west-1/x`, []);
    const otherRegion = policyScopeInForce(withPolicy, `${ACCOUNT}/regions/us-east-1`, []);

    // Assess
    expect(region).toBe(`${ACCOUNT}/regions/eu-west-1`);
    expect(otherRegion).toBe(ACCOUNT);
  });

  it('gives an account the policy of the OU it is under, the nearest OU first', () => {
    // Prepare
    const withPolicy = ['/ous/ou-ab12-parent01', '/ous/ou-ab12-prod00001'];

    // Act
    const account = policyScopeInForce(withPolicy, ACCOUNT, ANCESTORS);
    const onlyParent = policyScopeInForce(['/ous/ou-ab12-parent01'], `${ACCOUNT}/regions/eu-west-1`, ANCESTORS);

    // Assess
    expect(account).toBe('/ous/ou-ab12-prod00001');
    expect(onlyParent).toBe('/ous/ou-ab12-parent01');
  });

  it("prefers the account's own policy to its OU's", () => {
    // Act
    const at = policyScopeInForce(['/ous/ou-ab12-prod00001', ACCOUNT], `${ACCOUNT}/regions/eu-west-1`, ANCESTORS);

    // Assess
    expect(at).toBe(ACCOUNT);
  });

  it('moves an account to its new OU policy with no edit when the organization moves it', () => {
    // Prepare: prod needs approvers, dev none; the account moves from dev to prod.
    const withPolicy = ['/ous/ou-ab12-prod00001', '/ous/ou-ab12-dev00001'];

    // Act
    const before = policyScopeInForce(withPolicy, ACCOUNT, ['r-ab12', 'ou-ab12-dev00001']);
    const after = policyScopeInForce(withPolicy, ACCOUNT, ['r-ab12', 'ou-ab12-prod00001']);
    const leftTheOrganization = policyScopeInForce(withPolicy, ACCOUNT, []);

    // Assess
    expect(before).toBe('/ous/ou-ab12-dev00001');
    expect(after).toBe('/ous/ou-ab12-prod00001');
    expect(leftTheOrganization).toBe('/');
  });

  it('covers an OU below another by the organization, and only the OU scope itself reaches into it', () => {
    // Prepare: ou-ab12-prod00001 is under ou-ab12-parent01.
    const ancestorsOfProd = ['r-ab12', 'ou-ab12-parent01'];

    // Act
    const ou = policyScopeInForce(['/ous/ou-ab12-parent01'], '/ous/ou-ab12-prod00001', ancestorsOfProd);
    const pathBelowOu = policyScopeInForce(['/ous/ou-ab12-parent01/regions/eu-west-1'], ACCOUNT, ANCESTORS);

    // Assess
    expect(ou).toBe('/ous/ou-ab12-parent01');
    expect(pathBelowOu).toBe('/');
  });

  it('never lets an account borrow the policy of an account whose id it starts with', () => {
    // Act
    const at = policyScopeInForce(['/accounts/11111111111'], '/accounts/111111111111', []);
    const longer = policyScopeInForce([ACCOUNT], '/accounts/1111111111112', []);

    // Assess
    expect(at).toBe('/');
    expect(longer).toBe('/');
  });

  it('ignores ancestors that are not OU ids (a root, junk from a corrupt sync)', () => {
    // Act
    const chain = scopeChain(ACCOUNT, ['r-ab12', '../accounts/222222222222', 'ou-ab12-prod00001']);

    // Assess
    expect(chain).toEqual([ACCOUNT, '/ous/ou-ab12-prod00001', '/accounts', '/']);
  });

  it('orders the chain of an odd scope outside the organization by path alone', () => {
    // Act
    const chain = scopeChain('/projects/alpha/stages/prod', ANCESTORS);

    // Assess: ancestors only count for a scope that names an account or OU.
    expect(chain).toEqual([
      '/projects/alpha/stages/prod',
      '/projects/alpha/stages',
      '/projects/alpha',
      '/projects',
      '/',
    ]);
  });

  it.each([
    ['a climb out of the scope', '/accounts/111111111111/../222222222222'],
    ['a dot segment', '/accounts/./111111111111'],
    ['a trailing slash', '/accounts/111111111111/'],
    ['a double slash', '/accounts//111111111111'],
    ['no leading slash', 'accounts/111111111111'],
    ['full-width digits', '/accounts/１１１１１１１１１１１１'],
    ['a zero-width space', '/accounts/111111111111\u200b'],
    ['a combining accent', '/accounts/111111111111/re\u0301gions'],
    ['a right-to-left override', '/accounts/\u202e111111111111'],
    ['an encoded slash', '/accounts/111111111111%2F..%2F222222222222'],
    ['the empty string', ''],
    ['a NUL byte', '/accounts/111111111111\u0000'],
  ])('refuses %s rather than read it as another scope', (_what, scope) => {
    // Act
    const run = () => policyScopeInForce(['/accounts/222222222222', '/accounts/111111111111'], scope, []);

    // Assess
    expect(run).toThrow(DomainError);
    expect(scopedPolicyProblem(scope, 'put', [])).toBeDefined();
  });

  it('refuses a scope longer than the limit', () => {
    // Act
    const run = () => scopeChain(`/a${'/b'.repeat(300)}`, []);

    // Assess
    expect(run).toThrow(/not a scope/);
  });
});

describe('setting and removing a scoped policy', () => {
  it('keeps the base policy at /', () => {
    // Act
    const problem = scopedPolicyProblem('/', 'delete', []);

    // Assess
    expect(problem).toMatch(/base policy/);
  });

  it(`allows ${MAX_SCOPED_POLICIES} scopes besides /, and replacing one of them at the limit`, () => {
    // Prepare
    const full = Array.from({ length: MAX_SCOPED_POLICIES }, (_, i) => `/accounts/${String(i).padStart(12, '0')}`);

    // Act
    const another = scopedPolicyProblem('/accounts/999999999999', 'put', full);
    const replace = scopedPolicyProblem(full[0] as string, 'put', full);
    const base = scopedPolicyProblem('/', 'put', full);

    // Assess
    expect(another).toMatch(/at most/);
    expect(replace).toBeUndefined();
    expect(base).toBeUndefined();
  });

  it('reads the organization only when an OU has a policy and the scope names an account or OU', () => {
    // Act / Assess
    expect(needsOrganization(['/ous/ou-ab12-prod00001'], ACCOUNT)).toBe(true);
    expect(needsOrganization([ACCOUNT], ACCOUNT)).toBe(false);
    expect(needsOrganization(['/ous/ou-ab12-prod00001'], '/projects/alpha')).toBe(false);
  });
});
