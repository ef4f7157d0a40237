/**
 * Stand-ins for the two AWS APIs the use cases call besides DynamoDB and Step Functions, answered on the
 * local runtime's own port so the real SDK clients work with AWS_ENDPOINT_URL_SESV2 / _EVENTBRIDGE:
 *
 * - SES v2 SendEmail (REST JSON): `POST /v2/email/outbound-emails` → the mail goes to the outbox
 *   (`GET /_local/emails`), answer `{ "MessageId": "..." }`. Simple content only (what SesMailer sends).
 * - EventBridge PutEvents (JSON 1.1): `POST /` with `X-Amz-Target: AWSEvents.PutEvents` → the entries go to
 *   the local event list (`GET /_local/events`), answer `{ FailedEntryCount, Entries: [{ EventId }] }`.
 *
 * Requests are SigV4-signed by the SDK; the signature is not checked (any credentials do).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { clock } from '#shared/clock.ts';
import * as localEvents from './events.ts';
import type { HttpResult } from './http-event.ts';
import * as outbox from './outbox.ts';

export const SES_SEND_EMAIL_PATH = '/v2/email/outbound-emails';
const EVENTS_TARGET_PREFIX = 'AWSEvents.';
const JSON_11 = 'application/x-amz-json-1.1';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers },
    body: Buffer.from(JSON.stringify(value)),
  };
}

/** Whether this request is SES v2 SendEmail (on any server path, the SDK's REST binding). */
export function isSesSendEmail(method: string, rawPath: string): boolean {
  return method === 'POST' && rawPath === SES_SEND_EMAIL_PATH;
}

/** SES v2 GetAccount (`GET /v2/email/account`): the send quota the mailer paces itself by. */
export function isSesGetAccount(method: string, rawPath: string): boolean {
  return method === 'GET' && rawPath === '/v2/email/account';
}

/** The local account's quota: a production account's default (14 messages a second, 50,000 a day). */
export function sesGetAccount(): HttpResult {
  return json(200, {
    SendQuota: { Max24HourSend: 50_000, MaxSendRate: 14, SentLast24Hours: outbox.list().length },
    ProductionAccessEnabled: true,
    SendingEnabled: true,
  });
}

/** SES takes at most 50 recipients (To, Cc and Bcc together) in one message. */
export const SES_MAX_RECIPIENTS = 50;

/** Whether a request is an EventBridge API call (JSON 1.1, `X-Amz-Target: AWSEvents.<Operation>`). */
export function isEventsRequest(req: IncomingMessage): boolean {
  const target = req.headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith(EVENTS_TARGET_PREFIX);
}

function sesError(status: number, type: string, message: string): HttpResult {
  return json(status, { message }, { 'x-amzn-errortype': type });
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

function contentData(value: unknown): string | undefined {
  return isRecord(value) && typeof value.Data === 'string' ? value.Data : undefined;
}

/** The configuration set of the local runtime (the only one the stand-in knows, as the stack creates one). */
export const LOCAL_MAIL_CONFIGURATION_SET = 'elevate-local';

/**
 * The SES mailbox simulator's addresses (a `+label` may follow the local part, as in AWS), and what SES reports
 * about a message to each: a permanent bounce, a complaint, or a bounce because the address is on the account's
 * suppression list. Every other address is delivered. (The simulator has no transient bounce.)
 */
const SIMULATOR = /^(bounce|complaint|suppressionlist)(\+[^@]*)?@simulator\.amazonses\.com$/i;

/** A bounce or complaint event as SES puts it on the default EventBridge bus for a configuration set. */
export type SesFeedback = Record<string, unknown>;

function feedbackOf(
  address: string,
  messageId: string,
  source: string,
  tags: Record<string, string[]>,
  region: string,
): SesFeedback | undefined {
  const kind = SIMULATOR.exec(address)?.[1]?.toLowerCase();
  if (!kind) return undefined;
  const now = clock().now().toISOString();
  const mail = { timestamp: now, source, sendingAccountId: '000000000000', messageId, destination: [address], tags };
  const detail =
    kind === 'complaint'
      ? {
          eventType: 'Complaint',
          complaint: {
            feedbackId: `local-${randomUUID()}`,
            complainedRecipients: [{ emailAddress: address }],
            complaintFeedbackType: 'abuse',
            timestamp: now,
          },
          mail,
        }
      : {
          eventType: 'Bounce',
          bounce: {
            feedbackId: `local-${randomUUID()}`,
            bounceType: 'Permanent',
            bounceSubType: kind === 'bounce' ? 'General' : 'OnAccountSuppressionList',
            bouncedRecipients: [
              {
                emailAddress: address,
                action: 'failed',
                status: '5.1.1',
                diagnosticCode:
                  kind === 'bounce' ? 'smtp; 550 5.1.1 user unknown' : 'Amazon SES did not send the message',
              },
            ],
            timestamp: now,
            reportingMTA: 'dns; local.simulator.amazonses.com',
          },
          mail,
        };
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': kind === 'complaint' ? 'Email Complaint Received' : 'Email Bounced',
    source: 'aws.ses',
    account: '000000000000',
    time: now,
    region,
    resources: [`arn:aws:ses:${region}:000000000000:configuration-set/${tags['ses:configuration-set']?.[0] ?? ''}`],
    detail,
  };
}

/** The message tags of a SendEmail (`EmailTags: [{ Name, Value }]`), as SES reports them (lists of values). */
function tagsOf(value: unknown, configurationSet: string): Record<string, string[]> {
  const tags: Record<string, string[]> = { 'ses:configuration-set': [configurationSet] };
  if (Array.isArray(value)) {
    for (const tag of value) {
      if (isRecord(tag) && typeof tag.Name === 'string' && typeof tag.Value === 'string') tags[tag.Name] = [tag.Value];
    }
  }
  return tags;
}

/**
 * SES v2 SendEmail: record the mail in the outbox at the clock's time. A message sent under the configuration set
 * to a mailbox simulator address that bounces or complains is then reported as SES would: its event goes to
 * `feedback` (the local runtime runs the mail feedback function with it, as the stack's rule does). Without the
 * configuration set nothing is reported, as in AWS; an unknown set is refused, as in AWS.
 */
export function sesSendEmail(body: Buffer, feedback?: (event: SesFeedback) => void, region = 'us-east-1'): HttpResult {
  const input = parseJson(body);
  if (!isRecord(input)) return sesError(400, 'BadRequestException', 'the request body must be a JSON object');
  const configurationSet = input.ConfigurationSetName;
  if (configurationSet !== undefined && configurationSet !== LOCAL_MAIL_CONFIGURATION_SET) {
    return sesError(404, 'NotFoundException', `Configuration set <${String(configurationSet)}> does not exist.`);
  }
  const destination = isRecord(input.Destination) ? input.Destination : {};
  const to = [
    ...strings(destination.ToAddresses),
    ...strings(destination.CcAddresses),
    ...strings(destination.BccAddresses),
  ];
  if (to.length === 0) return sesError(400, 'BadRequestException', 'Missing required field Destination');
  if (to.length > SES_MAX_RECIPIENTS) {
    return sesError(400, 'MessageRejected', `Recipient count exceeds ${SES_MAX_RECIPIENTS}.`);
  }
  const content = isRecord(input.Content) ? input.Content : {};
  const simple = isRecord(content.Simple) ? content.Simple : undefined;
  if (!simple) {
    return sesError(
      400,
      'BadRequestException',
      'the local SES stand-in takes Content.Simple only (no Raw or Template)',
    );
  }
  const mailBody = isRecord(simple.Body) ? simple.Body : {};
  const messageId = `local-${randomUUID()}`;
  outbox.add({
    to,
    subject: contentData(simple.Subject) ?? '',
    text: contentData(mailBody.Text) ?? '',
    html: contentData(mailBody.Html) ?? '',
    sentAt: clock().now().toISOString(),
  });
  if (feedback && typeof configurationSet === 'string') {
    const tags = tagsOf(input.EmailTags, configurationSet);
    const source = typeof input.FromEmailAddress === 'string' ? input.FromEmailAddress : '';
    for (const address of to) {
      const event = feedbackOf(address, messageId, source, tags, region);
      if (event) feedback(event);
    }
  }
  return json(200, { MessageId: messageId });
}

function eventsError(type: string, message: string): HttpResult {
  return {
    status: 400,
    headers: { 'content-type': JSON_11, 'x-amzn-requestid': randomUUID() },
    body: Buffer.from(JSON.stringify({ __type: type, message })),
  };
}

/** The entry's Time (JSON 1.1 timestamps are epoch seconds), else the clock's time. */
function entryTime(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value * 1000).toISOString();
  return clock().now().toISOString();
}

function parseDetail(detail: string): unknown {
  try {
    return JSON.parse(detail);
  } catch {
    return detail;
  }
}

/** EventBridge: PutEvents keeps the entries; any other operation is unknown here. */
export function eventsRequest(req: IncomingMessage, body: Buffer): HttpResult {
  const target = String(req.headers['x-amz-target'] ?? '');
  if (req.method !== 'POST' || target !== `${EVENTS_TARGET_PREFIX}PutEvents`) {
    return eventsError('UnknownOperationException', `the local EventBridge stand-in has no operation ${target}`);
  }
  const input = parseJson(body);
  if (!isRecord(input) || !Array.isArray(input.Entries)) {
    return eventsError('ValidationException', "1 validation error detected: 'entries' must not be null");
  }
  if (input.Entries.length < 1 || input.Entries.length > 10) {
    return eventsError('ValidationException', "'entries' must have between 1 and 10 items");
  }
  let failed = 0;
  const entries = input.Entries.map((entry: unknown) => {
    const e = isRecord(entry) ? entry : {};
    const { Source: source, DetailType: detailType, Detail: detail } = e;
    if (typeof source !== 'string' || typeof detailType !== 'string' || typeof detail !== 'string') {
      failed += 1;
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail are required' };
    }
    const id = randomUUID();
    localEvents.add({
      id,
      eventBusName: typeof e.EventBusName === 'string' ? e.EventBusName : 'default',
      source,
      detailType,
      detail: parseDetail(detail),
      time: entryTime(e.Time),
    });
    return { EventId: id };
  });
  return {
    status: 200,
    headers: { 'content-type': JSON_11, 'x-amzn-requestid': randomUUID() },
    body: Buffer.from(JSON.stringify({ FailedEntryCount: failed, Entries: entries })),
  };
}
