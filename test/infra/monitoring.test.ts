import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULES } from '#functions/scheduled/schedules.ts';
import { REPO_ROOT } from '#infra/constructs/app-function.ts';
import { synthTemplate } from '#infra/synth.ts';

let template: Template;
beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 120_000);

type Resource = { Type: string; Properties: Record<string, unknown>; Condition?: string };
const all = () => (template.toJSON() as { Resources: Record<string, Resource> }).Resources;
const ofType = (type: string) => Object.entries(all()).filter(([, r]) => r.Type === type);
const topicId = () => ofType('AWS::SNS::Topic')[0]?.[0] as string;
const alarms = () => ofType('AWS::CloudWatch::Alarm');
const alarmNamed = (prefix: string) => {
  const found = alarms().filter(([id]) => new RegExp(`^Monitoring${prefix}[0-9A-F]{8}$`).test(id));
  expect(found, prefix).toHaveLength(1);
  return found[0]?.[1].Properties as Record<string, unknown>;
};

describe('alarms', () => {
  it('sends every alarm to one topic, mailed to AlarmEmail when one is given', () => {
    // Assess
    expect(ofType('AWS::SNS::Topic')).toHaveLength(1);
    for (const [id, alarm] of alarms()) expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId() }]);
    const [subscription] = ofType('AWS::SNS::Subscription');
    expect(subscription?.[1]).toMatchObject({
      Properties: { Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' }, TopicArn: { Ref: topicId() } },
      Condition: expect.stringMatching(/^MonitoringHasAlarmEmail/),
    });
    template.hasParameter('AlarmEmail', { Type: 'String', Default: '' });
  });

  it('alarms on the errors and throttles of every function', () => {
    // Prepare
    const functions = ofType('AWS::Lambda::Function').filter(([, f]) => f.Properties.Role !== undefined);

    // Assess
    for (const [id] of functions.filter(([fid]) => !fid.includes('Providerframework'))) {
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarms().filter(
          ([, a]) =>
            a.Properties.MetricName === metric &&
            JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id } }]),
        );
        expect(found, `${id} ${metric}`).toHaveLength(1);
        expect(found[0]?.[1].Properties).toMatchObject({
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          Period: 300,
          TreatMissingData: 'notBreaching',
        });
      }
    }
  });

  it('alarms when reconcile (and every frequent job) did not run, missing data included', () => {
    // Assess
    expect(alarmNamed('ReconcileDidNotRun')).toMatchObject({
      MetricName: 'Invocations',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      Period: 300,
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
    });
    expect(alarmNamed('ReviewsDidNotRun')).toMatchObject({ Period: 3600, EvaluationPeriods: 2 });
    expect(alarmNamed('AlertsDidNotRun')).toMatchObject({ Period: 3600, EvaluationPeriods: 2 });
    expect(alarmNamed('AuditExportDidNotRun')).toMatchObject({ Period: 86400, EvaluationPeriods: 1 });
  });

  it('alarms on failed and timed-out executions, table throttles and system errors, SES reputation and DLQs', () => {
    // Assess
    expect(alarmNamed('WorkflowFailed')).toMatchObject({ MetricName: 'ExecutionsFailed', Threshold: 1 });
    expect(alarmNamed('WorkflowTimedOut')).toMatchObject({ MetricName: 'ExecutionsTimedOut', Threshold: 1 });
    expect(JSON.stringify(alarmNamed('TableThrottled').Metrics)).toContain('ThrottledRequests');
    expect(JSON.stringify(alarmNamed('TableSystemErrors').Metrics)).toContain('SystemErrors');
    expect(alarmNamed('SesBounceRate')).toMatchObject({ MetricName: 'Reputation.BounceRate', Threshold: 0.05 });
    expect(alarmNamed('SesComplaintRate')).toMatchObject({ MetricName: 'Reputation.ComplaintRate', Threshold: 0.001 });
    for (const queue of ofType('AWS::SQS::Queue')) {
      const found = alarms().filter(
        ([, a]) =>
          a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Properties.Dimensions).includes(`"${queue[0]}"`),
      );
      expect(found, queue[0]).toHaveLength(1);
    }
  });

  it('gives every EventBridge target and asynchronous invocation a dead-letter queue or on-failure destination', () => {
    // Assess
    // One rule per scheduled job, and the mail feedback rule (SES bounces and complaints)
    const rules = ofType('AWS::Events::Rule');
    expect(rules).toHaveLength(SCHEDULES.length + 1);
    for (const [id, rule] of rules) {
      for (const target of rule.Properties.Targets as Record<string, unknown>[]) {
        expect(target.DeadLetterConfig, id).toEqual({ Arn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } });
      }
    }
    // one per scheduled job, the mail feedback function, and the Slack function's own asynchronous run
    const configs = ofType('AWS::Lambda::EventInvokeConfig');
    expect(configs).toHaveLength(SCHEDULES.length + 2);
    for (const [, config] of configs) {
      expect(config.Properties).toMatchObject({
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
      });
    }
    for (const [, mapping] of ofType('AWS::Lambda::EventSourceMapping')) {
      expect(mapping.Properties.DestinationConfig).toMatchObject({ OnFailure: { Destination: expect.anything() } });
    }
  });

  it('has one dashboard, and JSON logs on every function', () => {
    // Assess
    expect(ofType('AWS::CloudWatch::Dashboard')).toHaveLength(1);
    for (const [id, fn] of ofType('AWS::Lambda::Function').filter(([fid]) => !fid.includes('Providerframework'))) {
      expect(fn.Properties.LoggingConfig, id).toMatchObject({ LogFormat: 'JSON' });
    }
  });

  it('is explained alarm by alarm in docs/deploy.md', () => {
    // Prepare
    const doc = readFileSync(resolve(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    const kinds = new Set(
      alarms().map(([id]) =>
        id
          .replace(/^Monitoring/, '')
          .replace(/[0-9A-F]{8}$/, '')
          .replace(/^(Api|Job)[A-Za-z]+?(?=Errors$|Throttles$)/, '<fn>')
          .replace(/^(Workflow|Outbox|Bootstrap|ConsolePublisher|MailFeedback)(?=Errors|Throttles)/, '<fn>')
          .replace(/^[A-Za-z]+(?=DidNotRun)/, '<job>'),
      ),
    );

    // Assess
    for (const kind of kinds) expect(doc, kind).toContain(`\`${kind}\``);
  });
});
