import type { Template } from 'aws-cdk-lib/assertions';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FunctionEnvironments } from '#infra/local/function-env.ts';
import { synthTemplate } from '#infra/synth.ts';
import { depsFromEnv } from '#shared/deps.ts';

/**
 * The local runtime runs every function in one process, each with the environment the synthesized template gives
 * it (infra/local/function-env.ts), so a function whose wiring lacks a capability fails locally as in AWS.
 */
let template: Template;

beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 120_000);

afterEach(() => {
  vi.unstubAllEnvs();
});

/** What the local runtime puts in the process's environment: every setting of every capability. */
function stubRuntimeEnv(): void {
  vi.stubEnv('TABLE_NAME', 'local-env-test');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('STATE_MACHINE_ARN', 'arn:aws:states:us-east-1:000000000000:stateMachine:elevate-access');
  vi.stubEnv('ELEVATE_SENDER_ADDRESS', 'elevate@localhost');
  vi.stubEnv('EVENT_BUS_NAME', 'elevate');
  vi.stubEnv('AUDIT_BUCKET', 'elevate-audit');
  vi.stubEnv('EXPORT_FUNCTION_NAME', 'elevate-audit-export');
  vi.stubEnv('AWS_ENDPOINT_URL_SFN', 'http://127.0.0.1:1');
}

describe('each local function environment', () => {
  it('holds the settings its capabilities bring in the template, and no other function setting', () => {
    // Prepare
    stubRuntimeEnv();
    const environments = new FunctionEnvironments(template);

    // Act
    const roles = environments.of('functions/api/roles.ts', 'elevate-local-roles');
    const requests = environments.of('functions/api/requests.ts', 'elevate-local-requests');
    const outbox = environments.of('functions/stream/outbox.ts', 'elevate-outbox');
    const exports = environments.of('functions/api/exports.ts', 'elevate-local-exports');

    // Assess
    expect(roles).toMatchObject({ TABLE_NAME: 'local-env-test', AWS_LAMBDA_FUNCTION_NAME: 'elevate-local-roles' });
    for (const name of ['STATE_MACHINE_ARN', 'ELEVATE_SENDER_ADDRESS', 'EVENT_BUS_NAME', 'AUDIT_BUCKET']) {
      expect(roles[name], name).toBeUndefined();
    }
    expect(requests).toMatchObject({
      STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:elevate-access',
      ELEVATE_SENDER_ADDRESS: 'elevate@localhost',
    });
    expect(requests.EVENT_BUS_NAME).toBeUndefined();
    expect(outbox.EVENT_BUS_NAME).toBe('elevate');
    expect(exports).toMatchObject({ AUDIT_BUCKET: 'elevate-audit', EXPORT_FUNCTION_NAME: 'elevate-audit-export' });
    // what no function of the template is given stays (the SDK's endpoints, the log level)
    expect(roles.AWS_ENDPOINT_URL_SFN).toBe('http://127.0.0.1:1');
  });

  it('makes a function fail when its wiring lacks the capability it uses (mail from the roles function)', async () => {
    // Prepare
    stubRuntimeEnv();
    const environments = new FunctionEnvironments(template);
    const mail = { to: ['a@example.com'], subject: 's', text: 't', html: '<p>t</p>' };

    // Act
    const roles = environments.run('functions/api/roles.ts', 'elevate-local-roles', () => depsFromEnv());
    const reviews = environments.run('functions/api/reviews.ts', 'elevate-local-reviews', () => depsFromEnv());

    // Assess
    await expect(roles.mailer.send(mail)).rejects.toThrow(
      "ELEVATE_SENDER_ADDRESS is not set: mail is not configured for elevate-local-roles (its wiring in infra/stack.ts lacks the 'mail' capability)",
    );
    expect(reviews.mailer.constructor.name).toBe('SesMailer');
  });

  it('refuses an entry the template has no function for', () => {
    // Prepare
    const environments = new FunctionEnvironments(template);

    // Act + Assess
    expect(() => environments.of('functions/api/nothing.ts', 'x')).toThrow(
      'the template has no function with the entry functions/api/nothing.ts',
    );
  });
});
