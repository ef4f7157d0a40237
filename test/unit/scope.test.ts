import { describe, expect, it } from 'vitest';
import {
  accountOfScope,
  covers,
  coversInOrganization,
  organizationNodeOf,
  ouOfScope,
  Scope,
  scopeProblem,
} from '#shared/domain/scope.ts';

describe('scopes', () => {
  it.each(['/', '/accounts/123456789012', '/accounts/123456789012/regions/eu-west-1', '/a:b/c_d/e.f'])(
    'accepts %s',
    (s) => {
      expect(scopeProblem(s)).toBeUndefined();
      expect(Scope.safeParse(s).success).toBe(true);
    },
  );

  it.each([
    ['', 'a scope starts with /'],
    ['accounts', 'a scope starts with /'],
    ['/accounts/', 'does not end with /'],
    ['//x', "'' is not a valid scope segment"],
    ['/a/../b', "'..' is not a valid scope segment"],
    ['/a/./b', "'.' is not a valid scope segment"],
    ['/a b', "'a b' is not a valid scope segment"],
    ['/a#b', "'a#b' is not a valid scope segment"],
    [`/${'x'.repeat(600)}`, 'at most 512'],
  ])('rejects %j', (s, message) => {
    expect(scopeProblem(s)).toContain(message);
  });

  it('covers the scope itself and every scope below it, and nothing beside it', () => {
    expect(covers('/', '/accounts/1')).toBe(true);
    expect(covers('/accounts/1', '/accounts/1')).toBe(true);
    expect(covers('/accounts/1', '/accounts/1/regions/eu-west-1')).toBe(true);
    expect(covers('/accounts/1', '/accounts/12')).toBe(false);
    expect(covers('/accounts/1/regions/eu-west-1', '/accounts/1')).toBe(false);
  });
});

describe('organization scopes', () => {
  it('reads the account or the organizational unit a scope names', () => {
    expect(accountOfScope('/accounts/111111111111')).toBe('111111111111');
    expect(accountOfScope('/accounts/111111111111/regions/eu-west-1')).toBe('111111111111');
    expect(accountOfScope('/accounts/1111')).toBeUndefined();
    expect(accountOfScope('/ous/ou-local-prod')).toBeUndefined();
    expect(ouOfScope('/ous/ou-local-prod')).toBe('ou-local-prod');
    expect(ouOfScope('/')).toBeUndefined();
    expect(organizationNodeOf('/accounts/111111111111/x')).toEqual({ type: 'account', id: '111111111111' });
    expect(organizationNodeOf('/ous/ou-ab12-cdef3456')).toEqual({ type: 'organizationalUnit', id: 'ou-ab12-cdef3456' });
    expect(organizationNodeOf('/teams/x')).toBeUndefined();
  });

  it('an OU covers the accounts under it at any depth, and the scopes below them', () => {
    // Prepare: 111111111111 sits in ou-local-prod, which sits under ou-local-top, under the root
    const ancestors = ['r-local', 'ou-local-top', 'ou-local-prod'];
    // Act / Assess
    expect(coversInOrganization('/ous/ou-local-prod', '/accounts/111111111111', ancestors)).toBe(true);
    expect(coversInOrganization('/ous/ou-local-top', '/accounts/111111111111/regions/eu-west-1', ancestors)).toBe(true);
    expect(coversInOrganization('/ous/ou-local-dev', '/accounts/111111111111', ancestors)).toBe(false);
    expect(coversInOrganization('/ous/ou-local-top', '/ous/ou-local-prod', ['r-local', 'ou-local-top'])).toBe(true);
  });

  it('an account that left the OU is no longer covered by it', () => {
    expect(coversInOrganization('/ous/ou-local-prod', '/accounts/111111111111', ['r-local', 'ou-local-dev'])).toBe(
      false,
    );
  });

  it('an OU covers nothing beside it, and a path below an OU reaches no account', () => {
    expect(coversInOrganization('/ous/ou-local-prod', '/ous/ou-local-prod2', [])).toBe(false);
    expect(coversInOrganization('/ous/ou-local-prod/regions/x', '/accounts/111111111111', ['ou-local-prod'])).toBe(
      false,
    );
    // The paths rule still holds without an organization.
    expect(coversInOrganization('/', '/accounts/1', [])).toBe(true);
    expect(coversInOrganization('/accounts/1', '/accounts/1/x', [])).toBe(true);
    expect(coversInOrganization('/accounts/111111111111', '/ous/ou-local-prod', [])).toBe(false);
  });
});
