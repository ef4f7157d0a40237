import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthTemplate } from '#infra/synth.ts';

/**
 * Slack's wiring (infra/stack.ts, capability `slack`): the functions that talk to Slack, and only they, get the Slack
 * secret's ARN, the right to read that one secret, and the SlackClient layer that carries `@slack/web-api` (which no
 * bundle carries: test/infra/bundling.test.ts).
 */
let template: Template;

beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 120_000);

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
const resources = () => (template.toJSON() as { Resources: Record<string, Resource> }).Resources;

describe('Slack wiring', () => {
  it('gives the secret, its read and the client layer to the same functions: those that decide or time out requests', () => {
    const all = Object.entries(resources());
    const layerId = all.find(([, r]) => r.Type === 'AWS::Lambda::LayerVersion')?.[0];
    expect(layerId).toBeDefined();
    const withLayer = new Set<string>();
    const withSecret = new Set<string>();
    for (const [, r] of all) {
      if (r.Type !== 'AWS::Lambda::Function') continue;
      const entry = String(r.Metadata?.['elevate:entry']);
      const layers = (r.Properties.Layers as { Ref: string }[] | undefined) ?? [];
      if (layers.some((l) => l.Ref === layerId)) withLayer.add(entry);
      const env = (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      if ('ELEVATE_SLACK_SECRET_ARN' in env) withSecret.add(entry);
    }
    expect([...withLayer].sort()).toEqual([...withSecret].sort());
    expect([...withLayer].sort()).toEqual([
      'functions/api/governance.ts',
      'functions/api/requests.ts',
      'functions/api/slack.ts',
      'functions/scheduled/reconcile.ts',
      'functions/workflow/handler.ts',
    ]);
  });

  it('keeps the secret with no rotation Elevate could do, and empty parameters turn Slack off', () => {
    const secrets = Object.values(resources()).filter((r) => r.Type === 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const json = JSON.stringify(template.toJSON());
    expect(json).toContain('"SlackOn"');
    expect(json).toContain('SlackSigningSecret');
    expect(json).toContain('SlackBotToken');
  });
});
