import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import {
  ConfigurationSet,
  ConfigurationSetEventDestination,
  EmailSendingEvent,
  EventDestination,
  SuppressionReasons,
} from 'aws-cdk-lib/aws-ses';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AppFunction } from '#infra/constructs/app-function.ts';
import type { IDataTable } from '#infra/constructs/data.ts';
import { AUDIT_WRITE_PREFIXES, MAIL_SUPPRESSION_PREFIX } from '#shared/store/records.ts';

/** The local name (and entry) of the mail feedback function, which the local SES stand-in runs too. */
export const MAIL_FEEDBACK_LOCAL_NAME = 'elevate-mail-feedback';
export const MAIL_FEEDBACK_ENTRY = 'functions/mail/feedback.ts';

/** The rule's pattern: SES's bounce and complaint events on the default bus (the configuration set's destination). */
export const MAIL_FEEDBACK_PATTERN = {
  source: ['aws.ses'],
  detailType: ['Email Bounced', 'Email Complaint Received'],
} as const;

/**
 * The partitions the feedback function may put items in: mail suppressions and the audit trail (events, chain
 * heads, days). Nothing else: it never updates or deletes, and never touches a profile.
 */
export const MAIL_FEEDBACK_WRITE_PREFIXES: readonly string[] = [MAIL_SUPPRESSION_PREFIX, ...AUDIT_WRITE_PREFIXES];

export interface MailSenderProps {
  /** The address Elevate sends from (may be a parameter token); it must be a verified SES identity. */
  readonly senderAddress: string;

  /** The table the feedback function records suppressions in. */
  readonly data: IDataTable;

  /**
   * Environment variables of the feedback function.
   * @default - none beyond the house defaults
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * Elevate's outgoing mail: the SES identity of the sender address and the grant to send from it, the configuration
 * set every message goes out under, and the feedback loop: the set's bounce and complaint events go to the default
 * EventBridge bus (SES's EventBridge destination only takes the default bus), where a rule hands them to the mail
 * feedback function (retries, then a dead-letter queue; the function's own asynchronous retries end in the same
 * queue), which records the suppression of each permanently bouncing or complaining address.
 *
 * The grant is `ses:SendEmail` on the address identity,
 * `arn:<partition>:ses:<region>:<account>:identity/<SenderAddress>`. SES authorizes a send against the
 * identity that verified the From address, so the address itself must be a verified identity: when only
 * its domain is verified, SES checks `identity/<domain>` instead and this grant does not cover it (verify the
 * address too, or widen the grant here).
 */
export class MailSender extends Construct {
  /** The sender address. */
  public readonly senderAddress: string;

  /** The ARN of the sender address's SES identity. */
  public readonly identityArn: string;

  /** The configuration set every message is sent under. */
  public readonly configurationSet: ConfigurationSet;

  /** The function that records bounces and complaints. */
  public readonly feedback: AppFunction;

  /** Where a bounce or complaint event goes that could not be recorded after its retries (alarmed on). */
  public readonly feedbackFailures: Queue;

  constructor(scope: Construct, id: string, props: MailSenderProps) {
    super(scope, id);
    this.senderAddress = props.senderAddress;
    this.identityArn = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: props.senderAddress,
    });
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      // The account-level suppression list keeps working as well; Elevate's own list is what an admin sees.
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    new ConfigurationSetEventDestination(this, 'Feedback', {
      configurationSet: this.configurationSet,
      destination: EventDestination.eventBus(EventBus.fromEventBusName(this, 'DefaultBus', 'default')),
      events: [EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT],
    });

    this.feedback = new AppFunction(this, 'FeedbackFunction', {
      entry: MAIL_FEEDBACK_ENTRY,
      localName: MAIL_FEEDBACK_LOCAL_NAME,
      description: 'elevate mail feedback: records the addresses SES reports permanent bounces and complaints for',
      timeout: Duration.seconds(30),
      ...(props.environment === undefined ? {} : { environment: props.environment }),
    });
    props.data.grantReadData(this.feedback);
    props.data.grantPutItemsUnder(this.feedback, MAIL_FEEDBACK_WRITE_PREFIXES);
    this.feedbackFailures = new Queue(this, 'FeedbackFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.feedbackFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'this queue is itself the dead-letter queue of the mail feedback rule and the on-failure destination of ' +
        "the function's asynchronous invocations (which cdk-nag does not recognise as DLQs); it is alarmed on",
    });
    new Rule(this, 'FeedbackRule', {
      description: 'elevate: SES bounces and complaints of the configuration set, to the mail feedback function',
      eventPattern: {
        source: [...MAIL_FEEDBACK_PATTERN.source],
        detailType: [...MAIL_FEEDBACK_PATTERN.detailType],
        // Only this set's messages (SES tags each event with the set it was sent under; the default bus may carry
        // other applications' SES events too).
        detail: { mail: { tags: { 'ses:configuration-set': [this.configurationSet.configurationSetName] } } },
      },
      targets: [
        new LambdaFunction(this.feedback, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.feedbackFailures,
        }),
      ],
    });
    this.feedback.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.feedbackFailures) });
  }

  /** The ARN of the configuration set (SendEmail under it is authorized against it too). */
  public get configurationSetArn(): string {
    return Stack.of(this).formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /**
   * Lets the grantee send mail from the sender address under the configuration set (ses:SendEmail on the identity
   * and the set: SES authorizes a send against both) and read the account's send quota (ses:GetAccount, which
   * takes no resource: the mailer paces itself by the quota's MaxSendRate).
   */
  public grantSendEmail(grantee: IGrantable): Grant {
    const send = Grant.addToPrincipal({
      grantee,
      actions: ['ses:SendEmail'],
      resourceArns: [this.identityArn, this.configurationSetArn],
    });
    return send.combine(Grant.addToPrincipal({ grantee, actions: ['ses:GetAccount'], resourceArns: ['*'] }));
  }
}
