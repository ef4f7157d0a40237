import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { elevateSchemaText, FileError, loadFile } from '../../cli/policy/format.ts';

const FIXTURE = readFileSync(new URL('../fixtures/policy/elevate.yaml', import.meta.url), 'utf8');

function problemsOf(text: string): FileError['problems'] {
  try {
    loadFile('elevate.yaml', text);
  } catch (error) {
    if (error instanceof FileError) return error.problems;
    throw error;
  }
  throw new Error('the file was accepted');
}

describe('the policy file (elevate.yaml)', () => {
  it('publishes the JSON Schema generated from its zod schema (run `npm run schema:elevate`)', () => {
    // Act
    const committed = readFileSync(new URL('../../docs/elevate.schema.json', import.meta.url), 'utf8');

    // Assess
    expect(committed).toBe(elevateSchemaText());
    expect(JSON.parse(committed).required).toEqual(['apiVersion']);
  });

  it('merges a role policy over the defaults, and each scope over the resolved base policy', () => {
    // Act
    const [role] = loadFile('elevate.yaml', FIXTURE).roles;

    // Assess
    const base = role?.policies.get('/');
    const prod = role?.policies.get('/ous/ou-root-prod0001');
    expect(base).toEqual({ ...defaultPolicy(), activation: { ...defaultPolicy().activation, maxDuration: 'PT2H' } });
    expect(prod?.activation.maxDuration).toBe('PT2H');
    expect(prod?.activation.requireMfa).toBe(true);
    expect(prod?.activation.approval.stages).toEqual([
      { approvers: [{ type: 'group', id: 'dba-leads' }], requiredApprovals: 2, timeout: 'PT4H' },
    ]);
    expect(role?.policies.get('/ous/ou-root-dev00001')?.activation).toMatchObject({
      maxDuration: 'PT2H',
      requireJustification: false,
      approval: { required: false, stages: [] },
    });
  });

  it('reads the same file written as JSON', () => {
    // Prepare
    const asJson = JSON.stringify({
      apiVersion: 'elevate/v1',
      roles: [{ id: 'ops', displayName: 'Ops', privileged: false, policy: { activation: { maxDuration: 'PT1H' } } }],
    });

    // Act
    const desired = loadFile('elevate.json', asJson);

    // Assess
    expect(desired.roles[0]?.policies.get('/')?.activation.maxDuration).toBe('PT1H');
    expect(desired.alertSettings).toBeUndefined();
    expect(desired.accessReviews).toBeUndefined();
  });

  it('names the line and the field (a JSON Pointer) of each problem', () => {
    // Prepare
    const text = [
      'apiVersion: elevate/v1',
      'roles:',
      '  - id: db-admin',
      '    displayName: DB',
      '    privileged: yes',
      '    scopes:',
      '      /ous/ou-root-prod0001:',
      '        activation: { maxDuration: 2 hours, colour: red }',
      'eligibility:',
      '  - { principal: { type: user, id: alice }, role: db-admin, scope: /accounts/../x, expiration: never }',
    ].join('\n');

    // Act
    const problems = problemsOf(text);

    // Assess
    expect(problems.map((p) => [p.line, p.path])).toEqual([
      [5, '/roles/0/privileged'],
      [8, '/roles/0/scopes/~1ous~1ou-root-prod0001/activation/maxDuration'],
      [8, '/roles/0/scopes/~1ous~1ou-root-prod0001/activation'],
      [10, '/eligibility/0/scope'],
    ]);
    expect(problems[2]?.message).toContain('colour');
  });

  it('names the line of a rule that spans fields, and of a syntax error', () => {
    // Prepare
    const inconsistent = [
      'apiVersion: elevate/v1',
      'roles:',
      '  - id: db-admin',
      '    displayName: DB',
      '    privileged: true',
      '    policy:',
      '      activation:',
      '        approval: { required: true }',
    ].join('\n');

    // Act
    const rule = problemsOf(inconsistent);
    const syntax = problemsOf('apiVersion: elevate/v1\nroles: [\n');
    const twice = problemsOf(
      'apiVersion: elevate/v1\ngroups:\n  - { id: ab, displayName: A }\n  - { id: ab, displayName: B }\n',
    );

    // Assess
    expect(rule).toEqual([
      {
        line: 8,
        column: 19,
        path: '/roles/0/policy/activation/approval/stages',
        message: 'approval.required needs at least one stage',
      },
    ]);
    expect(syntax[0]?.line).toBe(3);
    expect(twice).toEqual([expect.objectContaining({ line: 4, path: '/groups/1' })]);
  });

  it('says it all in one error that names the file and says nothing was applied', () => {
    // Act
    const error = (() => {
      try {
        loadFile('policies/elevate.yaml', 'apiVersion: elevate/v2\n');
      } catch (e) {
        return e as Error;
      }
    })();

    // Assess
    expect(error?.message.split('\n')).toEqual([
      'policies/elevate.yaml is not a valid policy file; nothing was applied',
      '  policies/elevate.yaml:1:13: /apiVersion: Invalid input: expected "elevate/v1"',
    ]);
  });
});
