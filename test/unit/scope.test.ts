import { describe, expect, it } from 'vitest';
import { covers, Scope, scopeProblem } from '#shared/domain/scope.ts';

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
