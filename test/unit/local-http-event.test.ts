import { describe, expect, it } from 'vitest';
import {
  apiGatewayEvent,
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

  it('builds one event shape for every caller: the server, the handler tests, the fuzz test and the bench', () => {
    // Prepare
    const now = new Date('2026-03-12T19:03:58Z');

    // Act
    const authenticated = apiGatewayEvent({
      routeKey: 'GET /v1/roles/{roleId}',
      method: 'GET',
      rawPath: '/v1/roles/ops',
      rawQueryString: 'limit=5&tag=a&tag=b',
      pathParameters: { roleId: 'ops' },
      headers: { 'user-agent': 'vitest', host: 'api.example.com' },
      claims: { sub: 'alice', groups: ['a b', 'c'] },
      requestId: 'r-1',
      now,
    });
    const anonymous = apiGatewayEvent({
      routeKey: 'GET /v1/openapi.json',
      method: 'GET',
      rawPath: '/v1/openapi.json',
      requestId: 'r-2',
      now,
    });

    // Assess
    expect(authenticated).toMatchObject({
      version: '2.0',
      routeKey: 'GET /v1/roles/{roleId}',
      rawPath: '/v1/roles/ops',
      queryStringParameters: { limit: '5', tag: 'a,b' },
      pathParameters: { roleId: 'ops' },
      isBase64Encoded: false,
      requestContext: {
        requestId: 'r-1',
        domainName: 'api.example.com',
        http: { method: 'GET', path: '/v1/roles/ops', userAgent: 'vitest', sourceIp: '127.0.0.1' },
        authorizer: { jwt: { claims: { sub: 'alice', groups: '[a b c]' }, scopes: null } },
        time: '12/Mar/2026:19:03:58 +0000',
      },
    });
    expect(authenticated.body).toBeUndefined();
    // a public route: no authorizer block, no query or path parameters
    expect(anonymous.requestContext.authorizer).toBeUndefined();
    expect(anonymous).not.toHaveProperty('queryStringParameters');
    expect(anonymous).not.toHaveProperty('pathParameters');
  });
});
