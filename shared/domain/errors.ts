/**
 * Typed errors of the domain. The HTTP wrapper maps each to a problem+json response in one place;
 * `code` is the stable machine word of api.md and `status` its HTTP status.
 */
export type ErrorCode =
  | 'ValidationFailed'
  | 'MfaRequired'
  | 'ApproverMfaRequired'
  | 'AuthenticationContextRequired'
  | 'JustificationRequired'
  | 'TicketRequired'
  | 'DurationExceedsPolicy'
  | 'PermanentNotAllowed'
  | 'NotEligible'
  | 'InvalidPrincipalType'
  | 'TargetNotReady'
  | 'ScopeNotProvisionable'
  | 'Unauthenticated'
  | 'Forbidden'
  | 'SelfApprovalForbidden'
  | 'NotFound'
  | 'Conflict'
  | 'AlreadyDecided'
  | 'AlreadyActive'
  | 'PayloadTooLarge'
  | 'UnsupportedMediaType'
  | 'Throttled'
  | 'Unavailable';

const STATUS: Record<ErrorCode, number> = {
  ValidationFailed: 400,
  MfaRequired: 400,
  ApproverMfaRequired: 400,
  AuthenticationContextRequired: 400,
  JustificationRequired: 400,
  TicketRequired: 400,
  DurationExceedsPolicy: 400,
  PermanentNotAllowed: 400,
  NotEligible: 400,
  InvalidPrincipalType: 400,
  TargetNotReady: 400,
  ScopeNotProvisionable: 400,
  Unauthenticated: 401,
  Forbidden: 403,
  SelfApprovalForbidden: 403,
  NotFound: 404,
  Conflict: 409,
  AlreadyDecided: 409,
  AlreadyActive: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  Throttled: 429,
  Unavailable: 503,
};

export interface FieldError {
  path: string;
  message: string;
}

export class DomainError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
    this.name = 'DomainError';
    this.status = STATUS[code];
  }

  /** True for the policy refusals that api.md lists as 400s with their own code. */
  get isPolicyRefusal(): boolean {
    return this.status === 400 && this.code !== 'ValidationFailed';
  }
}

export const invalid = (detail: string, errors?: FieldError[]) => new DomainError('ValidationFailed', detail, errors);
export const notFound = (what: string) => new DomainError('NotFound', `${what} was not found`);
export const forbidden = (detail: string) => new DomainError('Forbidden', detail);
export const conflict = (detail: string) => new DomainError('Conflict', detail);
