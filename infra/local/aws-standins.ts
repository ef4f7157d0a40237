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

/** SES v2 SendEmail: record the mail in the outbox at the clock's time. */
export function sesSendEmail(body: Buffer): HttpResult {
  const input = parseJson(body);
  if (!isRecord(input)) return sesError(400, 'BadRequestException', 'the request body must be a JSON object');
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
  outbox.add({
    to,
    subject: contentData(simple.Subject) ?? '',
    text: contentData(mailBody.Text) ?? '',
    html: contentData(mailBody.Html) ?? '',
    sentAt: clock().now().toISOString(),
  });
  return json(200, { MessageId: `local-${randomUUID()}` });
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
