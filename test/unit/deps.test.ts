import { afterEach, describe, expect, it, vi } from 'vitest';
import { withFunctionEnv } from '#shared/config.ts';
import { depsFromEnv } from '#shared/deps.ts';
import type { WorkflowInput } from '#shared/ports/workflow.ts';

/**
 * Misconfiguration is loud: in a Lambda (AWS_LAMBDA_FUNCTION_NAME set, as Lambda and the local runtime set it), a port
 * whose setting is missing fails when called, naming the setting and the capability that brings it; only a use case
 * run outside any function (a test, a script) skips it with a warning. No call leaves the process here: the ports
 * that are configured are never called.
 */
const input: WorkflowInput = {
  requestId: 'req_1',
  phase: 'expiry',
  startDateTime: '2026-01-01T00:00:00Z',
  horizon: '2026-10-28T00:00:00Z',
  stage: 0,
  stageTimeoutSeconds: 0,
  endDateTime: null,
  stages: [],
};
const mail = { to: ['a@example.com'], subject: 's', text: 't', html: '<p>t</p>' };
const base = { TABLE_NAME: 'deps-unit', AWS_REGION: 'us-east-1' };

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('ports whose setting is missing', () => {
  it('fail in a Lambda, naming the missing setting and the capability of infra/stack.ts that brings it', async () => {
    // Prepare
    const deps = withFunctionEnv({ ...base, AWS_LAMBDA_FUNCTION_NAME: 'elevate-roles' }, () => depsFromEnv());

    // Act + Assess
    await expect(deps.mailer.send(mail)).rejects.toThrow(
      "ELEVATE_SENDER_ADDRESS is not set: mail is not configured for elevate-roles (its wiring in infra/stack.ts lacks the 'mail' capability)",
    );
    await expect(deps.events.publish([{ type: 'elevate.request.created', detail: {} }])).rejects.toThrow(
      "EVENT_BUS_NAME is not set: the event bus is not configured for elevate-roles (its wiring in infra/stack.ts lacks the 'events' capability)",
    );
    await expect(deps.workflow.start('req_1', input)).rejects.toThrow("lacks the 'start' capability");
    await expect(deps.workflow.stop('req_1', 'revoked')).rejects.toThrow("lacks the 'stop' capability");
    await expect(deps.workflow.succeed('token', {})).rejects.toThrow("lacks the 'taskResponse' capability");
    await expect(deps.workflow.fail('token', 'E', 'cause')).rejects.toThrow("lacks the 'taskResponse' capability");
    await expect(deps.exportJobs.start('exp_1')).rejects.toThrow('EXPORT_FUNCTION_NAME is not set');
    await expect(deps.objects.presignGet('audit/x', 60)).rejects.toThrow('AUDIT_BUCKET is not set');
  });

  it('are skipped with a warning outside any function (a use case called by a test or a script)', async () => {
    // Prepare
    const lines: string[] = [];
    vi.stubEnv('ELEVATE_LOG', 'warn');
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    const deps = withFunctionEnv(base, () => depsFromEnv());

    // Act
    await deps.mailer.send(mail);
    await deps.workflow.start('req_1', input);
    const answered = await deps.workflow.succeed('token', {});

    // Assess
    expect(answered).toBe(false);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'mail is not configured; skipped',
        setting: 'ELEVATE_SENDER_ADDRESS',
      }),
      expect.objectContaining({ level: 'warn', msg: 'the workflow is not configured; skipped' }),
      expect.objectContaining({ level: 'warn', msg: 'the workflow is not configured; skipped' }),
    ]);
  });
});

describe('the deps of each function', () => {
  it('hold the ports of its own settings, and share one adapter per table and setting with every other function', () => {
    // Prepare
    const withMail = { ...base, ELEVATE_SENDER_ADDRESS: 'elevate@example.com' };

    // Act
    const requests = withFunctionEnv({ ...withMail, AWS_LAMBDA_FUNCTION_NAME: 'elevate-requests' }, () =>
      depsFromEnv(),
    );
    const reviews = withFunctionEnv({ ...withMail, AWS_LAMBDA_FUNCTION_NAME: 'elevate-reviews' }, () => depsFromEnv());
    const roles = withFunctionEnv({ ...base, AWS_LAMBDA_FUNCTION_NAME: 'elevate-roles' }, () => depsFromEnv());

    // Assess
    expect(requests).not.toBe(reviews);
    expect(requests.mailer).toBe(reviews.mailer);
    expect(requests.mailer.constructor.name).toBe('SesMailer');
    expect(roles.mailer.constructor.name).not.toBe('SesMailer');
    expect(roles.store).toBe(requests.store);
    expect(requests.config.functionName).toBe('elevate-requests');
  });
});
