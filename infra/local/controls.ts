/**
 * The local runtime's `/_local` controls for development and tests, as a route table: the clock, tokens, the mail
 * and events the stand-ins received, the JWKS, the caller's claims, scheduled jobs on demand and the Identity Center
 * stand-in (docs/local-runtime.md). Never deployed.
 */
import type { IncomingMessage } from 'node:http';
import { clock, type ManualClock } from '#shared/clock.ts';
import { addDuration, tryParseDuration } from '#shared/domain/duration.ts';
import * as localEvents from './events.ts';
import { type HttpResult, stringifyClaims } from './http-event.ts';
import * as idcStandIn from './identity-center.ts';
import type { LocalIssuer } from './issuer.ts';
import * as outbox from './outbox.ts';
import { invalid, isRecord, jsonResult, notFound, parseJsonBody, parseTokenOptions, problemResult } from './results.ts';
import { scheduledJob, scheduleNames } from './schedules.ts';
import type { LocalSlack } from './slack.ts';

/** What the controls reach of the runtime that serves them. */
export interface LocalRuntimeControls {
  /** The manual clock, when the runtime runs on one. */
  manualClock(): ManualClock | undefined;
  /** Resolves once the work the clock set off has settled (LocalServer.idle). */
  settle(): Promise<void>;
  issuer(): LocalIssuer;
  /** Publishes what committed so far (the outbox, through the table's stream). */
  drainStream(): Promise<void>;
  /** API Gateway's JWT authorizer: the verified claims, or the 401 it would answer. */
  authorize(req: IncomingMessage): Promise<{ claims: Record<string, unknown> } | HttpResult>;
  /** The Identity Center stand-in, unless the environment names endpoints of its own. */
  identityCenter(): idcStandIn.LocalIdentityCenter | undefined;
  /** The Slack Web API stand-in (slack.ts). */
  slack(): LocalSlack;
}

export interface LocalRequest {
  req: IncomingMessage;
  method: string;
  path: string;
  body: Buffer;
}

interface LocalRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** The path, or a pattern whose groups are handed to the control (still percent-encoded). */
  path: string | RegExp;
  handle(runtime: LocalRuntimeControls, request: LocalRequest, groups: string[]): Promise<HttpResult> | HttpResult;
}

const noContent = (): HttpResult => ({ status: 204, headers: {}, body: Buffer.alloc(0) });
const IDC_PATH = '/_local/identity-center';

/** POST /_local/clock: `{ "advance": "PT9H" }` or `{ "set": "<date-time>" }`, forward only; answers once settled. */
async function moveClock(runtime: LocalRuntimeControls, { body }: LocalRequest): Promise<HttpResult> {
  const manual = runtime.manualClock();
  if (!manual) {
    return problemResult({
      code: 'Conflict',
      detail: 'the clock is the system clock; start with ELEVATE_CLOCK=manual',
    });
  }
  const parsed = parseJsonBody(body);
  if (!parsed.ok || !isRecord(parsed.value)) return invalid('the body must be a JSON object');
  const to = clockTarget(manual, parsed.value);
  if (typeof to === 'string') return invalid(to);
  if (to.getTime() < manual.now().getTime()) {
    return problemResult({ code: 'Conflict', detail: 'the manual clock cannot move backwards' });
  }
  manual.set(to);
  // Answer once the timers of this move have had their effect, so a client that moves the clock and then
  // reads sees the outcome (a workflow busy in real-time retries can outlast this: then answer anyway).
  await runtime
    .settle()
    .catch((error: unknown) => console.warn(`[elevate-local] after moving the clock: ${String(error)}`));
  return jsonResult(200, { now: manual.now().toISOString() });
}

/** The time a clock move asks for, or what is wrong with the request. */
function clockTarget(manual: ManualClock, value: Record<string, unknown>): Date | string {
  const { advance, set } = value;
  if (Object.keys(value).length !== 1 || (advance === undefined && set === undefined)) {
    return 'give exactly one of { "advance": "PT9H" } or { "set": "2026-01-01T00:00:00Z" }';
  }
  if (advance !== undefined) {
    const duration = typeof advance === 'string' ? tryParseDuration(advance) : undefined;
    return duration ? addDuration(manual.now(), duration) : 'advance must be an ISO 8601 duration such as PT9H or P1D';
  }
  const to = new Date(typeof set === 'string' && /^\d{4}-\d\d-\d\dT/.test(set) ? set : Number.NaN);
  return Number.isNaN(to.getTime()) ? 'set must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z' : to;
}

async function mintToken(runtime: LocalRuntimeControls, { body }: LocalRequest): Promise<HttpResult> {
  const parsed = parseJsonBody(body);
  if (!parsed.ok) return invalid('the body must be JSON');
  const options = parseTokenOptions(parsed.value);
  if (typeof options === 'string') return invalid(options);
  return jsonResult(200, { token: await runtime.issuer().mintToken(options) });
}

/** The claims exactly as a handler would see them in requestContext.authorizer.jwt.claims. */
async function whoami(runtime: LocalRuntimeControls, { req }: LocalRequest): Promise<HttpResult> {
  const auth = await runtime.authorize(req);
  if ('status' in auth) return auth;
  return jsonResult(200, { claims: stringifyClaims(auth.claims) });
}

async function runSchedule(_: LocalRuntimeControls, { method, path }: LocalRequest, [encoded = '']: string[]) {
  let name: string;
  try {
    name = decodeURIComponent(encoded);
  } catch {
    return notFound(`no route ${method} ${path}`);
  }
  const job = scheduledJob(name);
  if (!job) return notFound(`no scheduled job named ${name}; the jobs are ${scheduleNames().join(', ')}`);
  const result = await job();
  return jsonResult(200, { name, result: result ?? null });
}

/** A POST control of the Identity Center stand-in: the JSON body checked by `parse`, then `apply`; its snapshot. */
function identityCenterChange<T>(
  parse: (value: unknown) => T | string,
  apply: (standIn: idcStandIn.LocalIdentityCenter, input: T) => HttpResult | undefined,
): LocalRoute['handle'] {
  return (runtime, { body }) => {
    const standIn = runtime.identityCenter() as idcStandIn.LocalIdentityCenter;
    const parsed = parseJsonBody(body);
    if (!parsed.ok) return invalid('the body must be JSON');
    const input = parse(parsed.value);
    if (typeof input === 'string') return invalid(input);
    return apply(standIn, input) ?? jsonResult(200, standIn.snapshot());
  };
}

const problemOf = (problem: string | undefined): HttpResult | undefined => (problem ? invalid(problem) : undefined);

function parseMove(value: unknown): { id: string; parentId: string } | string {
  if (!isRecord(value) || typeof value.id !== 'string' || typeof value.parentId !== 'string') {
    return 'give { "id": "<account or OU id>", "parentId": "<root or OU id>" }';
  }
  if (Object.keys(value).length !== 2) return 'give { "id": "<account or OU id>", "parentId": "<root or OU id>" }';
  return { id: value.id, parentId: value.parentId };
}

/** The Slack stand-in answers its own paths: the Web API (`/_local/slack/api/<method>`) and its controls. */
const slackStandIn: LocalRoute['handle'] = (runtime, { req, method, path, body }) =>
  runtime.slack().request(method, path, req.headers, body);

/** Every `/_local` control. */
export const LOCAL_ROUTES: readonly LocalRoute[] = [
  // Slack (slack.ts): the messages and every call recorded, the Slack users by e-mail, faults, the Web API.
  { method: 'GET', path: '/_local/slack/messages', handle: slackStandIn },
  { method: 'DELETE', path: '/_local/slack/messages', handle: slackStandIn },
  { method: 'POST', path: '/_local/slack/users', handle: slackStandIn },
  { method: 'POST', path: '/_local/slack/faults', handle: slackStandIn },
  { method: 'POST', path: '/_local/slack/latency', handle: slackStandIn },
  { method: 'POST', path: /^\/_local\/slack\/api\/[a-zA-Z.]+$/, handle: slackStandIn },
  { method: 'GET', path: '/_local/clock', handle: () => jsonResult(200, { now: clock().now().toISOString() }) },
  { method: 'POST', path: '/_local/clock', handle: moveClock },
  { method: 'POST', path: '/_local/token', handle: mintToken },
  { method: 'GET', path: '/_local/emails', handle: () => jsonResult(200, { items: outbox.list() }) },
  {
    method: 'DELETE',
    path: '/_local/emails',
    handle: () => {
      outbox.clear();
      return noContent();
    },
  },
  {
    method: 'GET',
    path: '/_local/events',
    // What committed so far has been published (as it would have been by now in AWS, give or take a second).
    handle: async (runtime) => {
      await runtime.drainStream();
      return jsonResult(200, { items: localEvents.list() });
    },
  },
  {
    method: 'DELETE',
    path: '/_local/events',
    handle: () => {
      localEvents.clear();
      return noContent();
    },
  },
  {
    method: 'GET',
    path: '/_local/.well-known/jwks.json',
    handle: (runtime) => jsonResult(200, runtime.issuer().jwks()),
  },
  { method: 'GET', path: '/_local/whoami', handle: whoami },
  { method: 'POST', path: /^\/_local\/schedules\/([^/]+)\/run$/, handle: runSchedule },
  {
    method: 'GET',
    path: IDC_PATH,
    handle: (runtime) => jsonResult(200, (runtime.identityCenter() as idcStandIn.LocalIdentityCenter).snapshot()),
  },
  {
    method: 'POST',
    path: `${IDC_PATH}/faults`,
    handle: identityCenterChange(idcStandIn.parseFault, (standIn, fault) => {
      standIn.addFault(fault);
      return jsonResult(200, { fault });
    }),
  },
  {
    method: 'POST',
    path: `${IDC_PATH}/account-assignments`,
    handle: identityCenterChange(idcStandIn.parseOutsideAssignment, (standIn, input) =>
      problemOf(
        idcStandIn.control(() => standIn.assignOutside(input.accountId, input.permissionSetArn, input.userName)),
      ),
    ),
  },
  {
    method: 'POST',
    path: `${IDC_PATH}/organization/moves`,
    handle: identityCenterChange(parseMove, (standIn, move) =>
      problemOf(idcStandIn.control(() => standIn.move(move.id, move.parentId))),
    ),
  },
];

/** The matching control's answer; 404 for none, 409 for an Identity Center control while the stand-in is off. */
export async function routeLocal(runtime: LocalRuntimeControls, request: LocalRequest): Promise<HttpResult> {
  const { method, path } = request;
  if ((path === IDC_PATH || path.startsWith(`${IDC_PATH}/`)) && !runtime.identityCenter()) {
    return problemResult({
      code: 'Conflict',
      detail: 'the Identity Center stand-in is off: AWS_ENDPOINT_URL_SSO_ADMIN (or another) names an endpoint',
    });
  }
  for (const route of LOCAL_ROUTES) {
    if (route.method !== method) continue;
    if (typeof route.path === 'string') {
      if (route.path === path) return route.handle(runtime, request, []);
      continue;
    }
    const match = route.path.exec(path);
    if (match) return route.handle(runtime, request, match.slice(1));
  }
  return notFound(`no route ${method} ${path}`);
}
