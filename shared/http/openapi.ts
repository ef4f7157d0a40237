import * as z from 'zod';
import { CONTRACT, type OperationContract, Problem } from '../api/contract.ts';
import type { OperationId } from '../api/operations.ts';
import { ROUTES } from '../api/routes.ts';

/**
 * The OpenAPI 3.1 document, generated from the route table and the zod contract. docs/openapi.json is
 * this document as checked in (`npm run openapi` writes it; a unit test keeps the two equal).
 */
type JsonSchema = Record<string, unknown>;

const schemaOf = (s: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
  return rest;
};

const ERRORS: Record<string, string> = {
  '400': 'Invalid input or refused by policy (see `code`)',
  '401': 'No, invalid or expired token',
  '403': 'Authenticated but not allowed',
  '404': 'Not found',
  '409': 'Conflict with the current state',
  '413': 'Body too large',
  '429': 'Throttled',
};

function parameters(c: OperationContract) {
  const out: Record<string, unknown>[] = [];
  for (const [where, schema] of [
    ['path', c.params],
    ['query', c.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: property,
      });
    }
  }
  return out;
}

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
  for (const route of ROUTES) {
    const c: OperationContract = CONTRACT[route.operationId as OperationId];
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(c.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema ? { content: { 'application/json': { schema: schemaOf(r.schema, 'output') } } } : {}),
      };
    }
    for (const [status, description] of Object.entries(ERRORS)) {
      if (route.access === 'public' && status !== '429') continue;
      responses[status] = { description, content: problem };
    }
    const parametersList = parameters(c);
    if (c.idempotent) {
      parametersList.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
      });
    }
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      'x-elevate-access': route.access,
      ...(route.access === 'public' ? { security: [] } : {}),
      ...(parametersList.length ? { parameters: parametersList } : {}),
      ...(c.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(c.body, 'input') } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Elevate',
      version: '1.0.0',
      description: 'Just-in-time privileged access for AWS. Errors are RFC 9457 problem+json with a stable `code`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: schemaOf(Problem, 'output') },
    },
    paths,
  };
}
