import { CfnCondition, type CfnParameter, Duration, Fn } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type ITableV2, Operation } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSubscription, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** What an alarm means and what the operator does when it fires (docs/deploy.md lists them all). */
export interface AlarmSpec {
  readonly id: string;
  readonly metric: IMetric;
  readonly threshold: number;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparison?: ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default NOT_BREACHING (no data: nothing happened) */
  readonly missing?: TreatMissingData;
  readonly description: string;
}

export interface MonitoringProps {
  /** Every function of the stack, by a readable name (errors and throttles of each are alarmed). */
  readonly functions: Readonly<Record<string, IFunction>>;
  /**
   * The scheduled jobs' functions by job name, and the window in which each must have run at least once (a job
   * without a window, such as the weekly digest, is alarmed on its errors only).
   */
  readonly schedules: Readonly<Record<string, { fn: IFunction; window?: Duration }>>;
  readonly stateMachine: StateMachine;
  readonly table: ITableV2;
  /** Every dead-letter queue and on-failure destination: a message in any of them is an alarm. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  /** The e-mail address the alarm topic mails (may be a parameter token; empty for none). */
  readonly alarmEmail: CfnParameter;
}

/** The table operations Elevate's store performs (throttles and system errors are alarmed across them). */
const TABLE_OPERATIONS = [
  Operation.GET_ITEM,
  Operation.BATCH_GET_ITEM,
  Operation.QUERY,
  Operation.PUT_ITEM,
  Operation.UPDATE_ITEM,
  Operation.DELETE_ITEM,
  Operation.TRANSACT_WRITE_ITEMS,
];

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The operator's view: an SNS topic (e-mailed to `AlarmEmail` when given), one alarm per failure mode, all sent
 * to the topic, and one CloudWatch dashboard. The alarms:
 * - per function: `Errors` ≥ 1 and `Throttles` ≥ 1 in 5 minutes;
 * - per scheduled job with a window: `Invocations` < 1 over the window (missing data breaches: a job that did
 *   not run at all alarms too);
 * - the access workflow: `ExecutionsFailed` ≥ 1 and `ExecutionsTimedOut` ≥ 1;
 * - the table: throttled requests and system errors ≥ 1 across the store's operations;
 * - SES (account-wide): bounce rate ≥ 5% and complaint rate ≥ 0.1% (the levels at which AWS reviews an account);
 * - each dead-letter queue: a visible message.
 */
export class Monitoring extends Construct {
  public readonly topic: Topic;
  public readonly dashboard: Dashboard;
  public readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', { displayName: 'Elevate alarms', enforceSSL: true });
    const hasEmail = new CfnCondition(this, 'HasAlarmEmail', {
      expression: Fn.conditionNot(Fn.conditionEquals(props.alarmEmail.valueAsString, '')),
    });
    const subscription = new CfnSubscription(this, 'AlarmEmail', {
      topicArn: this.topic.topicArn,
      protocol: 'email',
      endpoint: props.alarmEmail.valueAsString,
    });
    subscription.cfnOptions.condition = hasEmail;

    const specs: AlarmSpec[] = [];
    for (const [name, fn] of Object.entries(props.functions)) {
      specs.push({
        id: `${name}Errors`,
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        description: `function ${name} failed (an error or a timeout)`,
      });
      specs.push({
        id: `${name}Throttles`,
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        description: `function ${name} was throttled (Lambda concurrency)`,
      });
    }
    for (const [name, job] of Object.entries(props.schedules)) {
      if (job.window === undefined) continue;
      const seconds = job.window.toSeconds();
      const period = seconds >= 86_400 ? Duration.days(1) : seconds >= 7_200 ? Duration.hours(1) : FIVE_MINUTES;
      specs.push({
        id: `${name}DidNotRun`,
        metric: job.fn.metricInvocations({ period, statistic: 'Sum' }),
        threshold: 1,
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: Math.max(1, Math.round(job.window.toSeconds() / period.toSeconds())),
        missing: TreatMissingData.BREACHING,
        description: `scheduled job ${name} did not run within ${job.window.toHumanString()}`,
      });
    }
    specs.push(
      {
        id: 'WorkflowFailed',
        metric: props.stateMachine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        description: 'an access workflow execution failed',
      },
      {
        id: 'WorkflowTimedOut',
        metric: props.stateMachine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        description: 'an access workflow execution timed out',
      },
      {
        id: 'TableThrottled',
        metric: props.table.metricThrottledRequestsForOperations({
          operations: TABLE_OPERATIONS,
          period: FIVE_MINUTES,
        }),
        threshold: 1,
        description: 'DynamoDB throttled requests to the table',
      },
      {
        id: 'TableSystemErrors',
        metric: props.table.metricSystemErrorsForOperations({ operations: TABLE_OPERATIONS, period: FIVE_MINUTES }),
        threshold: 1,
        description: 'DynamoDB answered requests to the table with system errors (HTTP 500)',
      },
      {
        id: 'SesBounceRate',
        metric: new Metric({
          namespace: 'AWS/SES',
          metricName: 'Reputation.BounceRate',
          period: Duration.hours(1),
          statistic: 'Maximum',
        }),
        threshold: 0.05,
        description: "the account's SES bounce rate reached 5%",
      },
      {
        id: 'SesComplaintRate',
        metric: new Metric({
          namespace: 'AWS/SES',
          metricName: 'Reputation.ComplaintRate',
          period: Duration.hours(1),
          statistic: 'Maximum',
        }),
        threshold: 0.001,
        description: "the account's SES complaint rate reached 0.1%",
      },
    );
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      specs.push({
        id: `${name}Messages`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        threshold: 1,
        description: `a message is waiting in the dead-letter queue ${name}`,
      });
    }

    const action = new SnsAction(this.topic);
    for (const spec of specs) {
      const alarm = new Alarm(this, spec.id, {
        alarmDescription: spec.description,
        metric: spec.metric,
        threshold: spec.threshold,
        comparisonOperator: spec.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: spec.evaluationPeriods ?? 1,
        treatMissingData: spec.missing ?? TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      this.alarms.push(alarm);
    }

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: 'elevate' });
    const fns = Object.entries(props.functions);
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 6 }));
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: fns.map(([name, fn]) => fn.metricErrors({ label: name, period: FIVE_MINUTES, statistic: 'Sum' })),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function throttles',
        left: fns.map(([name, fn]) => fn.metricThrottles({ label: name, period: FIVE_MINUTES, statistic: 'Sum' })),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Access workflow executions',
        left: [
          props.stateMachine.metricStarted({ period: FIVE_MINUTES, statistic: 'Sum' }),
          props.stateMachine.metricSucceeded({ period: FIVE_MINUTES, statistic: 'Sum' }),
          props.stateMachine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' }),
          props.stateMachine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum' }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Table',
        left: [
          props.table.metricConsumedReadCapacityUnits({ period: FIVE_MINUTES, statistic: 'Sum' }),
          props.table.metricConsumedWriteCapacityUnits({ period: FIVE_MINUTES, statistic: 'Sum' }),
        ],
        right: [
          props.table.metricThrottledRequestsForOperations({ operations: TABLE_OPERATIONS, period: FIVE_MINUTES }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Dead-letter queues and SES reputation',
        left: Object.entries(props.deadLetterQueues).map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ label: name, period: FIVE_MINUTES, statistic: 'Maximum' }),
        ),
        right: [
          new Metric({ namespace: 'AWS/SES', metricName: 'Reputation.BounceRate', statistic: 'Maximum' }),
          new Metric({ namespace: 'AWS/SES', metricName: 'Reputation.ComplaintRate', statistic: 'Maximum' }),
        ],
        width: 8,
      }),
    );
  }
}
