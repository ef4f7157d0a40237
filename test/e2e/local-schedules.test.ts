/**
 * The local runtime's scheduler (infra/local/scheduler.ts): EventBridge schedule expressions and "once per
 * clock move" on a manual clock; and the AWS stand-ins on the server's port, through the real SDK clients.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalScheduler, parseScheduleExpression } from '#infra/local/scheduler.ts';
import type { LocalServer } from '#infra/local/server.ts';
import { ManualClock } from '#shared/clock.ts';
import { emails, events, startTestServer } from '#test/support/local.ts';

const at = (iso: string) => new Date(iso);
const next = (expression: string, after: string, anchor = after) =>
  parseScheduleExpression(expression, at(anchor)).next(at(after)).toISOString();

describe('schedule expressions', () => {
  it('rate(): every N units from the anchor', () => {
    expect(next('rate(5 minutes)', '2026-01-01T00:00:00Z')).toBe('2026-01-01T00:05:00.000Z');
    expect(next('rate(5 minutes)', '2026-01-01T01:01:00Z', '2026-01-01T00:00:00Z')).toBe('2026-01-01T01:05:00.000Z');
    expect(next('rate(1 hour)', '2026-01-01T00:30:00Z', '2026-01-01T00:00:00Z')).toBe('2026-01-01T01:00:00.000Z');
    expect(next('rate(2 days)', '2026-01-01T00:00:00Z')).toBe('2026-01-03T00:00:00.000Z');
  });

  it('cron(): the EventBridge subset, in UTC', () => {
    expect(next('cron(0 12 * * ? *)', '2026-01-01T12:00:00Z')).toBe('2026-01-02T12:00:00.000Z');
    expect(next('cron(0/15 * * * ? *)', '2026-01-01T10:07:00Z')).toBe('2026-01-01T10:15:00.000Z');
    expect(next('cron(*/20 8-17 ? * MON-FRI *)', '2026-01-02T17:45:00Z')).toBe('2026-01-05T08:00:00.000Z');
    expect(next('cron(30 6 1,15 * ? *)', '2026-01-02T00:00:00Z')).toBe('2026-01-15T06:30:00.000Z');
    expect(next('cron(0 0 1 JAN ? 2027)', '2026-03-01T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    // Day-of-week 1 is Sunday, as on AWS.
    expect(next('cron(0 9 ? * 1 *)', '2026-01-01T00:00:00Z')).toBe('2026-01-04T09:00:00.000Z');
  });

  it('refuses what it does not support, and what AWS refuses', () => {
    for (const bad of [
      'cron(0 12 * * * *)',
      'cron(0 12 L * ? *)',
      'cron(0 12 ? * 6#3 *)',
      'cron(0 12 * *)',
      'rate(5 weeks)',
      'every 5 minutes',
    ]) {
      expect(() => parseScheduleExpression(bad, new Date()), bad).toThrow();
    }
  });
});

describe('the local scheduler on a manual clock', () => {
  it('runs a due job once per clock move (not once per missed interval), after beforeEach', async () => {
    const clock = new ManualClock(at('2026-01-01T00:00:00Z'));
    const runs: string[] = [];
    const order: string[] = [];
    const scheduler = new LocalScheduler(
      [
        {
          name: 'job',
          expression: 'rate(5 minutes)',
          run: async () => {
            order.push('job');
            runs.push(clock.now().toISOString());
          },
        },
        {
          name: 'broken',
          expression: 'rate(5 minutes)',
          run: async () => {
            throw new Error('boom');
          },
        },
      ],
      {
        clock,
        beforeEach: async () => {
          order.push('before');
        },
        onError: () => {},
      },
    );
    clock.advance(4 * 60_000);
    await scheduler.idle();
    expect(runs).toEqual([]);
    clock.advance(57 * 60_000);
    await scheduler.idle();
    expect(runs).toEqual(['2026-01-01T01:01:00.000Z']);
    expect(order.slice(0, 2)).toEqual(['before', 'job']);
    clock.advance(3 * 60_000);
    await scheduler.idle();
    expect(runs).toHaveLength(1);
    clock.advance(60_000);
    await scheduler.idle();
    expect(runs).toEqual(['2026-01-01T01:01:00.000Z', '2026-01-01T01:05:00.000Z']);
    scheduler.stop();
    clock.advance(3_600_000);
    await scheduler.idle();
    expect(runs).toHaveLength(2);
  });
});

describe('the AWS stand-ins of the local runtime', () => {
  let server: LocalServer;
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-checked' };

  beforeAll(async () => {
    server = await startTestServer({ clockStart: at('2026-05-01T10:00:00Z') });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('takes a signed SES v2 SendEmail into the outbox', async () => {
    const ses = new SESv2Client({ endpoint: server.url, region: 'eu-west-1', credentials });
    const out = await ses.send(
      new SendEmailCommand({
        FromEmailAddress: 'elevate@localhost',
        Destination: { ToAddresses: ['a@example.com'], CcAddresses: ['b@example.com'] },
        Content: {
          Simple: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'text' }, Html: { Data: '<p>html</p>' } } },
        },
      }),
    );
    ses.destroy();
    expect(out.MessageId).toEqual(expect.any(String));
    expect(await emails(server)).toContainEqual({
      to: ['a@example.com', 'b@example.com'],
      subject: 'Hi',
      text: 'text',
      html: '<p>html</p>',
      sentAt: '2026-05-01T10:00:00.000Z',
    });
  });

  it('takes a signed EventBridge PutEvents into the event list, and reports bad entries', async () => {
    const bus = new EventBridgeClient({ endpoint: server.url, region: 'eu-west-1', credentials });
    const out = await bus.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'elevate', Source: 'test', DetailType: 'test.thing', Detail: '{"n":1}' },
          { EventBusName: 'elevate', Source: 'test', DetailType: 'test.thing' },
        ],
      }),
    );
    bus.destroy();
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[0]?.EventId).toEqual(expect.any(String));
    expect(out.Entries?.[1]?.ErrorCode).toBe('InvalidArgument');
    expect(await events(server)).toContainEqual({
      id: out.Entries?.[0]?.EventId,
      eventBusName: 'elevate',
      source: 'test',
      detailType: 'test.thing',
      detail: { n: 1 },
      time: '2026-05-01T10:00:00.000Z',
    });
  });

  it('sets the environment the handlers read', () => {
    expect(process.env.STATE_MACHINE_ARN).toBe(server.stateMachineArn);
    expect(server.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:elevate-access');
    for (const name of [
      'AWS_ENDPOINT_URL_SFN',
      'AWS_ENDPOINT_URL_SESV2',
      'AWS_ENDPOINT_URL_EVENTBRIDGE',
      'ELEVATE_API_URL',
    ]) {
      expect(process.env[name], name).toBe(server.url);
    }
    expect(process.env.EVENT_BUS_NAME).toBe('elevate');
    expect(process.env.ELEVATE_SENDER_ADDRESS).toBeTruthy();
  });
});
