import { Duration, Validations } from 'aws-cdk-lib';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AppFunction } from '#infra/constructs/app-function.ts';
import type { IDataTable } from '#infra/constructs/data.ts';
import { OUTBOX_STREAM_FILTERS } from '#infra/outbox-filter.ts';

/** The local name (and entry) of the outbox publisher, which the local stream poller runs too. */
export const OUTBOX_FUNCTION_LOCAL_NAME = 'elevate-outbox';
export const OUTBOX_FUNCTION_ENTRY = 'functions/stream/outbox.ts';

export interface OutboxPublisherProps {
  /** The table whose stream carries the outbox items (it must have a stream with new images). */
  readonly data: IDataTable;

  /**
   * Environment variables for the publisher.
   * @default - none beyond the house defaults
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * How many times Lambda retries a failed batch (split in two each time) before it gives the batch's position
   * to the dead-letter queue. A retry follows right after; an EventBridge outage of more than a few minutes ends
   * there, and the outbox items are still in the table for a replay (docs/events.md).
   * @default 20
   */
  readonly retryAttempts?: number;
}

/**
 * The transactional outbox's publisher: a function on the table's stream (new outbox items and marked audit events only, in order per
 * shard, partial batch responses, bisect on error) that puts each lifecycle event on the bus, and a dead-letter
 * queue (SQS, encrypted, TLS only, 14 days) that receives the position of any batch it could not publish.
 */
export class OutboxPublisher extends Construct {
  /** The publisher function. */
  public readonly handler: AppFunction;

  /** Where Lambda records a batch it gave up on (shard and sequence numbers, not the events themselves). */
  public readonly deadLetters: Queue;

  constructor(scope: Construct, id: string, props: OutboxPublisherProps) {
    super(scope, id);
    this.handler = new AppFunction(this, 'Handler', {
      entry: OUTBOX_FUNCTION_ENTRY,
      localName: OUTBOX_FUNCTION_LOCAL_NAME,
      description: 'elevate outbox: puts the lifecycle events committed in the table on the bus',
      timeout: Duration.seconds(30),
      ...(props.environment === undefined ? {} : { environment: props.environment }),
    });
    this.deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'this queue is itself the dead-letter destination of the outbox stream mapping (a Lambda on-failure ' +
        'destination, which cdk-nag does not recognise as a DLQ); its messages are alarmed on, not consumed',
    });
    this.handler.addEventSource(
      new DynamoEventSource(props.data.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(0),
        bisectBatchOnError: true,
        retryAttempts: props.retryAttempts ?? 20,
        maxRecordAge: Duration.days(1),
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.deadLetters),
        filters: OUTBOX_STREAM_FILTERS.map((f) => FilterCriteria.filter(f as unknown as Record<string, unknown>)),
      }),
    );
  }
}
