import * as z from 'zod';
import { CONTRACT, type OperationContract, Problem } from '../api/contract.ts';
import type { OperationId } from '../api/operations.ts';
import { ROUTES, withoutToken } from '../api/routes.ts';

/**
 * The OpenAPI 3.1 document, generated from the route table and the zod contract. docs/openapi.json is
 * this document as checked in (`npm run openapi` writes it; a unit test keeps the two equal).
 *
 * Every schema with an `id` in its zod metadata (`.meta({ id: 'Role' })`, most of them in shared/domain) is written
 * once, under `components.schemas`, and referenced with `$ref` wherever an operation uses it. A named schema that
 * reads differently as a request than as a response (a field with a default is optional in a request, always there
 * in a response) is published twice: `RolePolicy` as answered, `RolePolicyInput` as sent.
 */
type JsonSchema = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';
/** Where a request schema's references point until its components are named. */
const REQUEST_REF = '#request/';

interface Converted {
  /** The JSON Schema of each part, in the order given: a `$ref` for a named schema, the schema itself otherwise. */
  parts: JsonSchema[];
  /** Every named schema, by its id. */
  named: Map<string, JsonSchema>;
}

/** Converts the parts of one direction (requests or responses) in one pass, so named schemas become references. */
function convert(parts: readonly z.ZodType[], io: 'input' | 'output', refPrefix: string): Converted {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of z.globalRegistry._idmap) registry.add(schema, { id });
  const names = parts.map((schema, i) => {
    if (!registry.has(schema)) registry.add(schema, { id: `part-${i}` });
    return (registry.get(schema) as { id: string }).id;
  });
  const { schemas } = z.toJSONSchema(registry, { io, unrepresentable: 'any', uri: (id) => `${refPrefix}${id}` });
  if ('__shared' in schemas) throw new Error('a reused schema was not inlined: give it an id or inline it');
  const plain = new Map<string, JsonSchema>();
  for (const [id, json] of Object.entries(schemas)) {
    const { $id: _id, $schema: _schema, ...rest } = json as JsonSchema;
    plain.set(id, rest);
  }
  const isPart = (id: string) => id.startsWith('part-');
  return {
    parts: names.map((id) => (isPart(id) ? (plain.get(id) as JsonSchema) : { $ref: `${refPrefix}${id}` })),
    named: new Map([...plain].filter(([id]) => !isPart(id))),
  };
}

/** The ids a JSON Schema references (with `prefix`). */
function refsOf(json: unknown, prefix: string, into = new Set<string>()): Set<string> {
  if (Array.isArray(json)) for (const v of json) refsOf(v, prefix, into);
  else if (json && typeof json === 'object') {
    for (const [k, v] of Object.entries(json)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(prefix)) into.add(v.slice(prefix.length));
      else refsOf(v, prefix, into);
    }
  }
  return into;
}

/** The ids reachable from `roots` through the named schemas' references. */
function reachable(roots: readonly JsonSchema[], named: Map<string, JsonSchema>, prefix: string): Set<string> {
  const seen = new Set<string>();
  const queue = [...refsOf(roots, prefix)];
  for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...refsOf(named.get(id), prefix));
  }
  return seen;
}

const rewriteRefs = (json: unknown, rename: (id: string) => string): unknown =>
  JSON.parse(JSON.stringify(json), (key, value) =>
    key === '$ref' && typeof value === 'string' && value.startsWith(REQUEST_REF)
      ? `${COMPONENTS}${rename(value.slice(REQUEST_REF.length))}`
      : value,
  );

/**
 * The JSON Schemas of the request parts and the response parts, and the components they reference: the named
 * schemas as responses read them, and, for those a request reads differently, their `<id>Input` versions.
 */
function schemas(requests: readonly z.ZodType[], responses: readonly z.ZodType[]) {
  const asRequest = convert(requests, 'input', REQUEST_REF);
  const asResponse = convert(responses, 'output', COMPONENTS);
  const answered = reachable(asResponse.parts, asResponse.named, COMPONENTS);
  const sent = reachable(asRequest.parts, asRequest.named, REQUEST_REF);
  // A named schema reads differently as a request when its own JSON differs, or when it references one that does.
  const sameText = (id: string) =>
    JSON.stringify(rewriteRefs(asRequest.named.get(id), (ref) => ref)) === JSON.stringify(asResponse.named.get(id));
  const differs = new Set([...sent].filter((id) => answered.has(id) && !sameText(id)));
  for (let grew = true; grew; ) {
    grew = false;
    for (const id of sent) {
      if (differs.has(id) || !answered.has(id)) continue;
      if ([...refsOf(asRequest.named.get(id), REQUEST_REF)].some((ref) => differs.has(ref))) {
        differs.add(id);
        grew = true;
      }
    }
  }
  const requestName = (id: string) => (differs.has(id) ? `${id}Input` : id);
  const components: Record<string, unknown> = {};
  for (const id of [...answered].sort()) components[id] = asResponse.named.get(id);
  for (const id of [...sent].sort()) {
    const name = requestName(id);
    if (answered.has(id) && name === id) continue;
    if (name in components) throw new Error(`two components would be named ${name}`);
    components[name] = rewriteRefs(asRequest.named.get(id), requestName);
  }
  return {
    requests: asRequest.parts.map((json) => rewriteRefs(json, requestName) as JsonSchema),
    responses: asResponse.parts,
    components: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/**
 * The problems an operation may answer: every one is problem+json (`Problem`, with a stable `code`), so the document
 * gives them once, as `4XX` (the public route: only `429`).
 */
const ERRORS = [
  '400: invalid input, or refused by policy (see `code`)',
  '401: no, invalid or expired token',
  '403: authenticated but not allowed',
  '404: not found',
  '409: conflict with the current state',
  '413: body too large',
  '429: throttled',
];

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: JsonSchema;
}

function parameters(c: OperationContract, schemaOf: (s: z.ZodType) => JsonSchema): Parameter[] {
  const out: Parameter[] = [];
  for (const [where, schema] of [
    ['path', c.params],
    ['query', c.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
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

/**
 * The parameters several operations take alike, each written once under `components.parameters`, by its name (or
 * `<name>In<Path|Query>` when a path and a query parameter share it); the others stay inline.
 */
function shareParameters(lists: readonly Parameter[][]) {
  const uses = new Map<string, number>();
  for (const p of lists.flat()) uses.set(JSON.stringify(p), (uses.get(JSON.stringify(p)) ?? 0) + 1);
  const alike = [...uses].filter(([, n]) => n > 1).map(([text]) => JSON.parse(text) as Parameter);
  const components: Record<string, Parameter> = {};
  const names = new Map<string, string>();
  for (const p of alike) {
    const variants = alike.filter((q) => q.name === p.name);
    const name =
      variants.length === 1
        ? p.name
        : variants.filter((q) => q.in === p.in).length === 1
          ? `${p.name}In${p.in[0]?.toUpperCase()}${p.in.slice(1)}`
          : undefined;
    if (!name) continue;
    components[name] = p;
    names.set(JSON.stringify(p), name);
  }
  const refer = (p: Parameter) => {
    const name = names.get(JSON.stringify(p));
    return name ? { $ref: `#/components/parameters/${name}` } : p;
  };
  return { components, refer };
}

export function buildOpenApi(): Record<string, unknown> {
  const contracts = ROUTES.map((route) => CONTRACT[route.operationId as OperationId] as OperationContract);
  const requestParts = contracts.flatMap((c) => [c.params, c.query, c.body].filter((s) => s !== undefined));
  const responseParts = [
    Problem,
    ...contracts.flatMap((c) => Object.values(c.responses).flatMap((r) => (r.schema ? [r.schema] : []))),
  ];
  const converted = schemas(requestParts, responseParts);
  const jsonOf = (parts: readonly z.ZodType[], json: readonly JsonSchema[]) => {
    const bySchema = new Map(parts.map((s, i) => [s, json[i] as JsonSchema]));
    return (s: z.ZodType) => bySchema.get(s) as JsonSchema;
  };
  const requestJson = jsonOf(requestParts, converted.requests);
  const responseJson = jsonOf(responseParts, converted.responses);

  const parameterLists = contracts.map((c) => parameters(c, requestJson));
  const shared = shareParameters(parameterLists);

  const paths: Record<string, Record<string, unknown>> = {};
  const problem = { 'application/problem+json': { schema: responseJson(Problem) } };
  const namedResponses: Record<string, unknown> = {};
  const errorResponses = {
    Problem: { description: `A problem. ${ERRORS.join('; ')}`, content: problem },
    Throttled: { description: 'Throttled', content: problem },
  };
  for (const [i, route] of ROUTES.entries()) {
    const c = contracts[i] as OperationContract;
    const parametersList = (parameterLists[i] ?? []).map(shared.refer);
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(c.responses)) {
      const response = {
        description: r.description,
        ...(r.schema ? { content: { 'application/json': { schema: responseJson(r.schema) } } } : {}),
      };
      // A response several operations answer alike (a held change) is written once, under its name.
      if (r.name) namedResponses[r.name] = response;
      responses[status] = r.name ? { $ref: `#/components/responses/${r.name}` } : response;
    }
    if (withoutToken(route)) responses['429'] = { $ref: '#/components/responses/Throttled' };
    else responses['4XX'] = { $ref: '#/components/responses/Problem' };
    if (c.idempotent) parametersList.push({ $ref: '#/components/parameters/Idempotency-Key' });
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      'x-elevate-access': route.access,
      ...(withoutToken(route) ? { security: [] } : {}),
      ...(parametersList.length ? { parameters: parametersList } : {}),
      ...(c.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: requestJson(c.body) } } } }
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
      schemas: converted.components,
      responses: { ...errorResponses, ...namedResponses },
      parameters: {
        ...shared.components,
        'Idempotency-Key': {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
        },
      },
    },
    paths,
  };
}
