import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAIL_FEEDBACK_ENTRY, MAIL_FEEDBACK_LOCAL_NAME } from '#infra/constructs/mail.ts';
import { synthTemplate } from '#infra/synth.ts';

/** Issue 12 item 7: the configuration set every message goes out under, and its bounce and complaint feedback. */
let template: Template;
beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 120_000);

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
const all = () => (template.toJSON() as { Resources: Record<string, Resource> }).Resources;
const ofType = (type: string) => Object.entries(all()).filter(([, r]) => r.Type === type);
const only = (type: string) => {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Resource];
};

describe('mail feedback (SES configuration set)', () => {
  it('publishes the bounces and complaints of one configuration set to the default bus', () => {
    // Prepare
    const [setId] = only('AWS::SES::ConfigurationSet');
    const [, destination] = only('AWS::SES::ConfigurationSetEventDestination');

    // Assess
    expect(destination.Properties).toMatchObject({
      ConfigurationSetName: { Ref: setId },
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: ['bounce', 'complaint'],
        EventBridgeDestination: {
          EventBusArn: {
            'Fn::Join': ['', expect.arrayContaining([':event-bus/default'])],
          },
        },
      },
    });
  });

  it('hands those events, and only those of its own set, to the feedback function, with retries and a dead-letter queue', () => {
    // Prepare
    const [setId] = only('AWS::SES::ConfigurationSet');
    const rules = ofType('AWS::Events::Rule').filter(([id]) => id.startsWith('MailFeedbackRule'));
    const [fnId, fn] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('MailFeedbackFunction')) ?? [];
    const [queueId] = ofType('AWS::SQS::Queue').find(([id]) => id.startsWith('MailFeedbackFailures')) ?? [];

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]?.[1].Properties).toMatchObject({
      EventPattern: {
        source: ['aws.ses'],
        'detail-type': ['Email Bounced', 'Email Complaint Received'],
        detail: { mail: { tags: { 'ses:configuration-set': [{ Ref: setId }] } } },
      },
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86_400 },
        },
      ],
    });
    expect(rules[0]?.[1].Properties.EventBusName).toBeUndefined();
    expect(fn?.Metadata).toMatchObject({
      'elevate:entry': MAIL_FEEDBACK_ENTRY,
      'elevate:localName': MAIL_FEEDBACK_LOCAL_NAME,
    });
    const [, config] = ofType('AWS::Lambda::EventInvokeConfig').find(
      ([, c]) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify({ Ref: fnId }),
    ) ?? [undefined, undefined];
    expect(config?.Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('sends every message of every mailing function under the set, and no other function may send', () => {
    // Prepare
    const [setId] = only('AWS::SES::ConfigurationSet');
    const functions = ofType('AWS::Lambda::Function');
    const env = (f: Resource) =>
      ((f.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<
        string,
        unknown
      >;
    const senders = functions.filter(([, f]) => 'ELEVATE_SENDER_ADDRESS' in env(f));

    // Assess
    expect(senders.length).toBeGreaterThan(5);
    for (const [id, f] of functions) {
      const sends = 'ELEVATE_SENDER_ADDRESS' in env(f);
      expect(env(f).ELEVATE_MAIL_CONFIGURATION_SET, id).toEqual(sends ? { Ref: setId } : undefined);
    }
  });
});
