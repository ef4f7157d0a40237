import { Readable } from 'node:stream';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetAccountCommand, MessageRejected, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { EVENT_SOURCE, EventBridgePublisher } from '#shared/ports/events.ts';
import { SendRateLimiter, SesMailer } from '#shared/ports/mailer.ts';
import { CHECKSUM_ALGORITHM, getBytes, LambdaExportJobs, listKeys, S3ObjectStore } from '#shared/ports/objects.ts';
import { StepFunctionsWorkflow, type WorkflowInput } from '#shared/ports/workflow.ts';

/**
 * The AWS adapters of `shared/ports` against aws-sdk-client-mock: each test asserts the exact command the adapter
 * sends and how it reads the answer (no network, no emulator). The provisioning adapters (Identity Center, identity
 * store, Organizations) are in provisioning-ports.test.ts.
 */
const meta = { $metadata: {} };

const events = mockClient(EventBridgeClient);
const sfn = mockClient(SFNClient);
const ses = mockClient(SESv2Client);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);

beforeEach(() => {
  for (const mock of [events, sfn, ses, s3, lambda]) mock.reset();
});

describe('EventBridge publisher', () => {
  const BUS = 'elevate-bus';
  const lifecycle = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ type: 'elevate.request.approved', detail: { requestId: `r${i}` } }));

  it('puts 23 events as batches of 10, 10 and 3 on the bus, each entry named by source and type', async () => {
    // Prepare
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const publisher = new EventBridgePublisher(BUS);

    // Act
    await publisher.publish(lifecycle(23));

    // Assess
    const batches = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(batches[0]?.[0]).toEqual({
      EventBusName: BUS,
      Source: EVENT_SOURCE,
      DetailType: 'elevate.request.approved',
      Detail: JSON.stringify({ requestId: 'r0' }),
    });
    expect(batches.flat().map((e) => JSON.parse(String(e.Detail)).requestId)).toEqual(
      lifecycle(23).map((e) => e.detail.requestId),
    );
  });

  it('fails when EventBridge refuses an entry (FailedEntryCount), and sends no later batch', async () => {
    // Prepare
    events
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] })
      .resolves({ FailedEntryCount: 0 });
    const publisher = new EventBridgePublisher(BUS);

    // Act
    const publishing = publisher.publish(lifecycle(15));

    // Assess
    await expect(publishing).rejects.toThrow('eventbridge refused 1 of 10 events');
    expect(events).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  it('sends nothing for no events', async () => {
    await new EventBridgePublisher(BUS).publish([]);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

describe('Step Functions workflow', () => {
  const MACHINE = 'arn:aws:states:eu-west-1:111111111111:stateMachine:elevate-access';
  const input: WorkflowInput = {
    requestId: 'req_1',
    phase: 'approval',
    startDateTime: '2026-01-01T00:00:00Z',
    horizon: '2026-10-28T00:00:00Z',
    stage: 0,
    stageTimeoutSeconds: 3600,
    endDateTime: '2026-01-01T08:00:00Z',
    stages: [{ timeoutSeconds: 3600 }],
  };

  it('starts one execution named after the request, its input as JSON', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });

    // Act
    await new StepFunctionsWorkflow(MACHINE).start('req_1', input);

    // Assess
    expect(sfn).toHaveReceivedCommandExactlyOnceWith(StartExecutionCommand, {
      stateMachineArn: MACHINE,
      name: 'req_1',
      input: JSON.stringify(input),
    });
  });

  it('takes ExecutionAlreadyExists as the start already done (a retried start is the same execution)', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'already exists', ...meta }));

    // Act
    const starting = new StepFunctionsWorkflow(MACHINE).start('req_1', input);

    // Assess
    await expect(starting).resolves.toBeUndefined();
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('passes any other start failure on', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(new StepFunctionsWorkflow(MACHINE).start('req_1', input)).rejects.toThrow('throttled');
  });

  it("stops the request's execution by its ARN, and takes ExecutionDoesNotExist as stopped", async () => {
    // Prepare
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', ...meta }));

    // Act
    await new StepFunctionsWorkflow(MACHINE).stop('req_1', 'cancelled by alice');

    // Assess
    expect(sfn).toHaveReceivedCommandExactlyOnceWith(StopExecutionCommand, {
      executionArn: 'arn:aws:states:eu-west-1:111111111111:execution:elevate-access:req_1',
      cause: 'cancelled by alice',
    });
  });

  it('resumes a task with its output as JSON, and answers false for a token that is no longer valid', async () => {
    // Prepare
    sfn
      .on(SendTaskSuccessCommand)
      .resolvesOnce({})
      .rejectsOnce(new TaskTimedOut({ message: 'timed out', ...meta }));
    sfn.on(SendTaskFailureCommand).rejects(new InvalidToken({ message: 'invalid', ...meta }));
    const workflow = new StepFunctionsWorkflow(MACHINE);

    // Act
    const resumed = await workflow.succeed('token-1', { decision: 'Approve' });
    const late = await workflow.succeed('token-2', { decision: 'Approve' });
    const failed = await workflow.fail('token-3', 'Denied', 'denied by bob');

    // Assess
    expect([resumed, late, failed]).toEqual([true, false, false]);
    expect(sfn).toHaveReceivedNthCommandWith(SendTaskSuccessCommand, 1, {
      taskToken: 'token-1',
      output: JSON.stringify({ decision: 'Approve' }),
    });
    expect(sfn).toHaveReceivedCommandExactlyOnceWith(SendTaskFailureCommand, {
      taskToken: 'token-3',
      error: 'Denied',
      cause: 'denied by bob',
    });
  });
});

describe('SES mailer', () => {
  const mail = { subject: 'Approve?', text: 'plain text', html: '<p>html</p>' };

  it('sends each recipient one SES v2 simple message: subject, text and html parts in UTF-8', async () => {
    // Prepare
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const mailer = new SesMailer('elevate@example.com', new SendRateLimiter(async () => 10_000));

    // Act
    await mailer.send({ ...mail, to: ['a@example.com', 'b@example.com', 'a@example.com'] });

    // Assess
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 2);
    expect(ses).toHaveReceivedNthCommandWith(SendEmailCommand, 1, {
      FromEmailAddress: 'elevate@example.com',
      Destination: { ToAddresses: ['a@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Approve?', Charset: 'UTF-8' },
          Body: { Text: { Data: 'plain text', Charset: 'UTF-8' }, Html: { Data: '<p>html</p>', Charset: 'UTF-8' } },
        },
      },
    });
    expect(ses.commandCalls(SendEmailCommand)[1]?.args[0].input.Destination).toEqual({
      ToAddresses: ['b@example.com'],
    });
  });

  it('reads the send rate with GetAccount, and fails only when every recipient was refused', async () => {
    // Prepare
    ses.on(GetAccountCommand).resolves({ SendQuota: { MaxSendRate: 10_000 } });
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'rejected', ...meta }));
    const mailer = new SesMailer('elevate@example.com');

    // Act
    const sending = mailer.send({ ...mail, to: ['x@example.com', 'y@example.com'] });

    // Assess
    await expect(sending).rejects.toThrow('rejected');
    expect(ses).toHaveReceivedCommandExactlyOnceWith(GetAccountCommand, {});
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 2);
  });
});

describe('S3 object store and export jobs', () => {
  const BUCKET = 'elevate-audit';

  it('creates an object only if absent, naming its SHA-256 checksum (Object Lock refuses a write without one)', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({ ETag: '"e"' });

    // Act
    await new S3ObjectStore(BUCKET, new S3Client({ region: 'eu-west-1' })).create(
      'manifests/day.json',
      '{"n":1}',
      'application/json',
    );

    // Assess
    expect(CHECKSUM_ALGORITHM).toBe('SHA256');
    expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: 'manifests/day.json',
      Body: '{"n":1}',
      ContentType: 'application/json',
      ChecksumAlgorithm: 'SHA256',
      IfNoneMatch: '*',
    });
  });

  it('answers false for the 412 of a conditional create (the object is there already)', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } }),
    );
    const store = new S3ObjectStore(BUCKET, new S3Client({ region: 'eu-west-1' }));

    // Act
    const creating = store.create('manifests/day.json', '{}', 'application/json');

    // Assess
    await expect(creating).resolves.toBe(false);
  });

  it('uploads a large stream in 5 MiB parts, each part and the upload naming the SHA-256 checksum', async () => {
    // Prepare
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCommand).callsFake((input: { PartNumber?: number }) => ({ ETag: `"p${input.PartNumber}"` }));
    s3.on(CompleteMultipartUploadCommand).resolves({ Location: 'x' });
    const body = Readable.from([Buffer.alloc(5 * 1024 * 1024, 1), Buffer.alloc(1024, 2)]);

    // Act
    await new S3ObjectStore(BUCKET, new S3Client({ region: 'eu-west-1' })).upload(
      'events/day.jsonl.gz',
      body,
      'application/gzip',
    );

    // Assess
    expect(s3).toHaveReceivedCommandExactlyOnceWith(CreateMultipartUploadCommand, {
      Bucket: BUCKET,
      Key: 'events/day.jsonl.gz',
      ContentType: 'application/gzip',
      ChecksumAlgorithm: 'SHA256',
    });
    const parts = s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input);
    expect(parts.map((p) => [p.PartNumber, p.UploadId, p.ChecksumAlgorithm])).toEqual([
      [1, 'up-1', 'SHA256'],
      [2, 'up-1', 'SHA256'],
    ]);
    expect(s3).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      Bucket: BUCKET,
      Key: 'events/day.jsonl.gz',
      UploadId: 'up-1',
    });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('lists every key under a prefix, page after page', async () => {
    // Prepare
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'a/1' }, { Key: 'a/2' }], IsTruncated: true, NextContinuationToken: 't1' })
      .resolvesOnce({ Contents: [{ Key: 'a/3' }], IsTruncated: false });
    const client = new S3Client({ region: 'eu-west-1' });

    // Act
    const keys = await listKeys(client, BUCKET, 'a/');

    // Assess
    expect(keys).toEqual(['a/1', 'a/2', 'a/3']);
    expect(s3).toHaveReceivedNthCommandWith(ListObjectsV2Command, 2, {
      Bucket: BUCKET,
      Prefix: 'a/',
      ContinuationToken: 't1',
    });
  });

  it('reads an object as bytes', async () => {
    // Prepare
    const body = { transformToByteArray: async () => new TextEncoder().encode('hello') };
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'a/1' }).resolves({ Body: body as never });

    // Act
    const bytes = await getBytes(new S3Client({ region: 'eu-west-1' }), BUCKET, 'a/1');

    // Assess
    expect(bytes.toString()).toBe('hello');
  });

  it('starts an export job as an asynchronous invoke carrying the export id', async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });

    // Act
    await new LambdaExportJobs('elevate-audit-export').start('exp_1');

    // Assess
    const sent = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(sent).toMatchObject({ FunctionName: 'elevate-audit-export', InvocationType: 'Event' });
    expect(JSON.parse(Buffer.from(sent?.Payload as Uint8Array).toString())).toEqual({ exportId: 'exp_1' });
  });
});
