import * as z from 'zod';

/**
 * Scopes are paths: `/`, `/accounts/123456789012`, `/accounts/123456789012/regions/eu-west-1`.
 * An assignment at scope S covers S and every scope below it.
 */
export const MAX_SCOPE_LENGTH = 512;
const SEGMENT = /^[A-Za-z0-9_:@+=,-][A-Za-z0-9._:@+=,-]*$/;

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
  .meta({ description: 'A path: / or /accounts/123456789012/...', examples: ['/', '/accounts/123456789012'] });

/** Does an assignment at `held` cover a request at `wanted`? */
export function covers(held: string, wanted: string): boolean {
  if (held === '/') return true;
  return wanted === held || wanted.startsWith(`${held}/`);
}
