/**
 * The local server's own answers (not the handlers'): problem+json in the handlers' shape, JSON, and the checks of
 * the bodies the `/_local` controls take.
 */
import type { IncomingMessage } from 'node:http';
import { DomainError, type ErrorCode } from '#shared/domain/errors.ts';
import { problemBody } from '#shared/http/problem.ts';
import { type HttpResult, MAX_BODY_BYTES } from './http-event.ts';
import type { TokenOptions } from './issuer.ts';

type LocalProblemCode = ErrorCode | 'InternalError' | 'Unavailable';

interface Problem {
  code: LocalProblemCode;
  detail: string;
  headers?: Record<string, string>;
}

const OWN_STATUS = { InternalError: 500, Unavailable: 503 } as const;
const OWN_TITLES = { InternalError: 'Internal error', Unavailable: 'Service unavailable' } as const;

/** A problem+json response in the same shape as the handlers' (shared/http/problem.ts). */
export function problemResult(p: Problem): HttpResult {
  let status: number;
  let body: object;
  if (p.code === 'InternalError' || p.code === 'Unavailable') {
    status = OWN_STATUS[p.code];
    body = {
      type: `https://elevate.dev/problems/${p.code}`,
      title: OWN_TITLES[p.code],
      status,
      detail: p.detail,
      code: p.code,
    };
  } else {
    const error = new DomainError(p.code, p.detail);
    status = error.status;
    body = problemBody(error);
  }
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...p.headers },
    body: Buffer.from(JSON.stringify(body)),
  };
}

export function jsonResult(status: number, value: unknown): HttpResult {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(value)) };
}

export const notFound = (detail: string): HttpResult => problemResult({ code: 'NotFound', detail });
export const invalid = (detail: string): HttpResult => problemResult({ code: 'ValidationFailed', detail });

/** Read the body, or `tooLarge` past API Gateway's 10 MB (the rest is drained so the 413 reaches the client). */
export function readBody(req: IncomingMessage): Promise<Buffer | 'tooLarge'> {
  return new Promise((done, fail) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    let size = 0;
    let tooLarge = declared > MAX_BODY_BYTES;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => done(tooLarge ? 'tooLarge' : Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

export function parseJsonBody(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (body.length === 0) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Validate the body of POST /_local/token (the same options as `npm run token`). */
export function parseTokenOptions(value: unknown): TokenOptions | string {
  if (!isRecord(value)) return 'the body must be a JSON object';
  const allowed = new Set(['sub', 'email', 'name', 'groups', 'mfa', 'acrs', 'ttl']);
  const unknown = Object.keys(value).filter((k) => !allowed.has(k));
  if (unknown.length > 0) return `unknown field(s): ${unknown.join(', ')}`;
  const { sub, email, name, groups, mfa, acrs, ttl } = value;
  if (typeof sub !== 'string' || sub === '') return 'sub must be a non-empty string';
  if (email !== undefined && typeof email !== 'string') return 'email must be a string';
  if (name !== undefined && typeof name !== 'string') return 'name must be a string';
  if (groups !== undefined && !isStringArray(groups)) return 'groups must be an array of strings';
  if (acrs !== undefined && !isStringArray(acrs)) return 'acrs must be an array of strings';
  if (mfa !== undefined && typeof mfa !== 'boolean') return 'mfa must be a boolean';
  if (ttl !== undefined && !(typeof ttl === 'number' && Number.isInteger(ttl) && ttl > 0)) {
    return 'ttl must be a positive integer (seconds)';
  }
  return {
    sub,
    ...(email !== undefined && { email }),
    ...(name !== undefined && { name }),
    ...(groups !== undefined && { groups }),
    ...(mfa !== undefined && { mfa }),
    ...(acrs !== undefined && { acrs }),
    ...(ttl !== undefined && { ttl }),
  };
}
