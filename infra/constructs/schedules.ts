import { Duration, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SCHEDULES } from '#functions/scheduled/schedules.ts';
import { AppFunction } from '#infra/constructs/app-function.ts';
import type { IDataTable } from '#infra/constructs/data.ts';
import { ATTR, keys } from '#shared/store/records.ts';

/** A job's table access: read only, read and its own progress record (`JOB#<job>`), or read and write. */
export type ScheduleTableAccess = 'read' | 'readAndOwnProgress' | 'readWrite';

/** One scheduled job, as `SCHEDULES` (functions/scheduled/schedules.ts) lists them. */
export interface ScheduleDefinition {
  /** The job's name: the rule and the local name `elevate-<name>` derive from it. */
  readonly name: string;
  /** The function: the entry `functions/scheduled/<fn>.ts`, exporting `handler`. */
  readonly fn: string;
  /** An EventBridge schedule expression: `rate(N minute[s]|hour[s]|day[s])` or `cron(...)` (six fields, UTC). */
  readonly expression: string;
  /** What the job does (the rule's and the function's description). */
  readonly description?: string;
}

/** The local runtime's name of a scheduled job's function. */
export const scheduledFunctionLocalName = (name: string): string => `elevate-${name}`;

const RATE = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/;
const CRON = /^cron\(\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*\)$/;

/**
 * The CDK Schedule of an EventBridge schedule expression. `rate(N unit)` takes minutes, hours or days
 * (N ≥ 1; the singular unit for 1, as EventBridge requires); `cron(minutes hours day-of-month month
 * day-of-week year)` takes exactly six fields, `?` in one of the day fields. Throws on anything else.
 */
export function parseSchedule(expression: string): Schedule {
  const rate = RATE.exec(expression.trim());
  if (rate) {
    const amount = Number(rate[1]);
    const unit = rate[2] as string;
    if (amount < 1) throw new Error(`schedule ${expression}: the rate must be at least 1`);
    if ((amount === 1) === unit.endsWith('s')) {
      throw new Error(`schedule ${expression}: EventBridge wants the singular unit for 1 and the plural for more`);
    }
    if (unit.startsWith('minute')) return Schedule.rate(Duration.minutes(amount));
    if (unit.startsWith('hour')) return Schedule.rate(Duration.hours(amount));
    return Schedule.rate(Duration.days(amount));
  }
  const cron = CRON.exec(expression.trim());
  if (cron) {
    const [, minute, hour, day, month, weekDay, year] = cron as unknown as string[];
    const field = (value: string | undefined): string | undefined => (value === '?' ? undefined : value);
    if (day !== '?' && weekDay !== '?') {
      throw new Error(`schedule ${expression}: one of day-of-month and day-of-week must be "?"`);
    }
    return Schedule.cron({
      ...(minute === undefined ? {} : { minute }),
      ...(hour === undefined ? {} : { hour }),
      ...(field(day) === undefined ? {} : { day: day as string }),
      ...(month === undefined ? {} : { month }),
      ...(field(weekDay) === undefined ? {} : { weekDay: weekDay as string }),
      ...(year === undefined ? {} : { year }),
    });
  }
  throw new Error(`schedule ${expression}: expected rate(N minutes|hours|days) or cron(6 fields)`);
}

export interface SchedulesProps {
  /** The table the scheduled functions read and write (granted through its least-privilege grants). */
  readonly data: IDataTable;

  /**
   * Environment variables given to every scheduled function.
   * @default - none beyond the house defaults
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * The jobs to schedule; each gets one function (entry `functions/scheduled/<fn>.ts`) and one rule.
   * @default SCHEDULES (functions/scheduled/schedules.ts)
   */
  readonly schedules?: readonly ScheduleDefinition[];

  /**
   * Each scheduled function's timeout. A run should end well before the next one starts.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;

  /**
   * Per-job timeouts, by job name, over `timeout` (the audit export of a busy day streams for minutes).
   * @default - none
   */
  readonly timeouts?: Readonly<Record<string, Duration>>;

  /**
   * The table access of each job by name: `read` for a job that only reads (and mails), `readWrite` else.
   * @default - readWrite for every job
   */
  readonly tableAccess?: Readonly<Record<string, ScheduleTableAccess>>;

  /**
   * Jobs whose function bundles the AWS SDK (`AppFunctionProps.bundleAwsSdk`), by job name.
   * @default - none
   */
  readonly bundleAwsSdk?: readonly string[];

  /**
   * How many times EventBridge retries a failed invocation. Each job is idempotent and runs again at its next
   * tick, so a few retries are enough.
   * @default 2
   */
  readonly retryAttempts?: number;
}

const pascal = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/**
 * Elevate's scheduled jobs: for each entry of the schedule table, an `AppFunction` on
 * `functions/scheduled/<fn>.ts` (local name `elevate-<name>`) and an EventBridge rule on the default bus
 * (schedules only run there) that invokes it. Each function gets the table access `tableAccess` names; other
 * grants (workflow, bus, mail) are the stack's.
 */
export class Schedules extends Construct {
  /** The scheduled functions, by job name. */
  public readonly functions: Readonly<Record<string, AppFunction>>;

  /** The rules, by job name. */
  public readonly rules: Readonly<Record<string, Rule>>;

  /**
   * Where a job's failure lands: the rules' dead-letter queue (EventBridge could not invoke the function) and the
   * functions' on-failure destination (an asynchronous invocation failed after its retries: the scheduled runs,
   * and the audit exports the API and reconcile start).
   */
  public readonly failures: Queue;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const schedules = props.schedules ?? SCHEDULES;
    const functions: Record<string, AppFunction> = {};
    const rules: Record<string, Rule> = {};
    this.failures = new Queue(this, 'Failures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'this queue is itself the dead-letter queue of the schedule rules and the on-failure destination of the ' +
        "jobs' asynchronous invocations (which cdk-nag does not recognise as DLQs); it is alarmed on, not consumed",
    });
    for (const job of schedules) {
      if (job.name in functions) throw new Error(`schedule ${job.name} is listed twice`);
      const schedule = parseSchedule(job.expression);
      const fn = new AppFunction(this, `${pascal(job.name)}Function`, {
        entry: `functions/scheduled/${job.fn}.ts`,
        localName: scheduledFunctionLocalName(job.name),
        description:
          `elevate scheduled ${job.name}${job.description === undefined ? '' : `: ${job.description}`}`.slice(0, 256),
        timeout: props.timeouts?.[job.name] ?? props.timeout ?? Duration.minutes(1),
        ...(props.bundleAwsSdk?.includes(job.name) ? { bundleAwsSdk: true } : {}),
        ...(props.environment === undefined ? {} : { environment: props.environment }),
      });
      const access = props.tableAccess?.[job.name] ?? 'readWrite';
      if (access === 'readWrite') props.data.grantReadWriteData(fn);
      else props.data.grantReadData(fn);
      // A reading job that resumes where it stopped writes its own progress record, and nothing else.
      if (access === 'readAndOwnProgress') props.data.grantWriteOwnItems(fn, [keys.jobProgress(job.name)[ATTR.pk]]);
      rules[job.name] = new Rule(this, `${pascal(job.name)}Rule`, {
        description: `elevate ${job.name} (${job.expression})`,
        schedule,
        targets: [new LambdaFunction(fn, { retryAttempts: props.retryAttempts ?? 2, deadLetterQueue: this.failures })],
      });
      fn.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.failures) });
      functions[job.name] = fn;
    }
    this.functions = functions;
    this.rules = rules;
  }

  /** The function of the named job; throws if there is no such job. */
  public functionOf(name: string): AppFunction {
    const found = this.functions[name];
    if (found === undefined)
      throw new Error(`scheduled job ${name} does not exist; check functions/scheduled/schedules.ts`);
    return found;
  }
}
