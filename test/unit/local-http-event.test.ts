import { describe, expect, it } from 'vitest';
import {
  apiGatewayTime,
  isTextContentType,
  matchRoute,
  queryParameters,
  stringifyClaim,
  toHttpResult,
} from '#infra/local/http-event.ts';

const routes = [
  { method: 'GET', path: '/v1/roles' },
  { method: 'GET', path: '/v1/roles/{roleId}' },
  { method: 'PATCH', path: '/v1/roles/{roleId}' },
  { method: 'GET', path: '/v1/{kind}/assignments' },
  { method: 'GET', path: '/v1/me/assignments' },
] as const;

describe('what the local runtime does as API Gateway', () => {
  it('matches path templates, decodes parameters and prefers static segments', () => {
    expect(matchRoute(routes, 'GET', '/v1/roles/a%20b')).toEqual({
      kind: 'match',
      match: { route: routes[1], pathParameters: { roleId: 'a b' } },
    });
    expect(matchRoute(routes, 'GET', '/v1/me/assignments')).toMatchObject({
      kind: 'match',
      match: { route: routes[4] },
    });
    expect(matchRoute(routes, 'DELETE', '/v1/roles/x')).toEqual({ kind: 'wrongMethod' });
    expect(matchRoute(routes, 'GET', '/v1/nothing')).toEqual({ kind: 'none' });
    expect(matchRoute(routes, 'GET', '/v1/roles/')).toEqual({ kind: 'none' });
    expect(matchRoute(routes, 'GET', '/v1/roles/%E0%A4%A')).toEqual({ kind: 'badEncoding' });
  });

  it('joins repeated query keys with commas and decodes values', () => {
    expect(queryParameters('')).toBeUndefined();
    expect(queryParameters('a=1&a=2&b=x%20y&c')).toEqual({ a: '1,2', b: 'x y', c: '' });
  });

  it('stringifies claims as the JWT authorizer does', () => {
    expect(stringifyClaim('alice')).toBe('alice');
    expect(stringifyClaim(['pwd', 'mfa'])).toBe('[pwd mfa]');
    expect(stringifyClaim([])).toBe('[]');
    expect(stringifyClaim(1700000000)).toBe('1700000000');
    expect(stringifyClaim(true)).toBe('true');
    expect(stringifyClaim({ b: 1, a: 'x' })).toBe('map[a:x b:1]');
  });

  it('passes text bodies as text and others as base64', () => {
    expect(isTextContentType('application/json; charset=utf-8')).toBe(true);
    expect(isTextContentType('application/problem+json')).toBe(true);
    expect(isTextContentType('text/plain')).toBe(true);
    expect(isTextContentType('application/octet-stream')).toBe(false);
    expect(isTextContentType(undefined)).toBe(false);
  });

  it('formats requestContext.time like API Gateway', () => {
    expect(apiGatewayTime(new Date('2020-03-12T19:03:58Z'))).toBe('12/Mar/2020:19:03:58 +0000');
  });

  it('maps handler results to responses', () => {
    const structured = toHttpResult({
      statusCode: 201,
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
      cookies: ['a=1'],
    });
    expect(structured.status).toBe(201);
    expect(structured.headers).toEqual({ 'content-type': 'application/json', 'set-cookie': ['a=1'] });
    expect(
      toHttpResult({
        statusCode: 200,
        body: Buffer.from('hi').toString('base64'),
        isBase64Encoded: true,
      }).body.toString(),
    ).toBe('hi');
    const inferred = toHttpResult({ hello: 'world' });
    expect(inferred.status).toBe(200);
    expect(JSON.parse(inferred.body.toString())).toEqual({ hello: 'world' });
  });
});
