import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { DomainError, ErrorCode, FieldError } from '../domain/errors.ts';

/** RFC 9457 problem+json, the one shape every error of the API takes. */
const TITLES: Partial<Record<ErrorCode, string>> = {
  ValidationFailed: 'The request is not valid',
  Unauthenticated: 'Authentication required',
  Forbidden: 'Not allowed',
  SelfApprovalForbidden: 'You cannot approve your own request',
  NotFound: 'Not found',
  Conflict: 'Conflict with the current state',
  PayloadTooLarge: 'Request body too large',
  UnsupportedMediaType: 'Unsupported media type',
  Throttled: 'Too many requests',
  Unavailable: 'Service busy',
};

export function problemBody(error: DomainError) {
  return {
    type: `https://elevate.dev/problems/${error.code}`,
    title: TITLES[error.code] ?? 'Refused by policy',
    status: error.status,
    detail: error.message,
    code: error.code,
    ...(error.errors?.length ? { errors: error.errors } : {}),
  };
}

export function problem(error: DomainError, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: error.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify(problemBody(error)),
  };
}

export const internalError = (requestId: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 500,
  headers: { 'content-type': 'application/problem+json' },
  body: JSON.stringify({
    type: 'https://elevate.dev/problems/InternalError',
    title: 'Internal error',
    status: 500,
    detail: `something failed on our side; nothing you sent caused it. Reference: ${requestId}`,
    code: 'InternalError',
  }),
});

/** zod issues as the `errors` list of a ValidationFailed problem, each naming its field. */
export function fieldErrors(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix: string,
): FieldError[] {
  return issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.message,
  }));
}
