/**
 * The policy-as-code file, `elevate.yaml` (YAML or JSON): its zod schema, built from the domain's schemas (so a
 * field means in the file what it means in the API), its JSON Schema (docs/elevate.schema.json, `npm run
 * schema:elevate`), and its loading: parsed with line positions, checked, and resolved into whole policies (a role's
 * `policy` merged over the defaults of api.md, each `scopes` entry merged over the role's resolved base policy).
 * Every problem names the file, the line and the field (a JSON Pointer, as JSON Schema validators name it).
 */
import { createHash } from 'node:crypto';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import * as z from 'zod';
import { AlertSettings, defaultAlertSettings } from '#shared/domain/alerts.ts';
import { GroupInput } from '#shared/domain/group.ts';
import { defaultPolicy, policyProblems, RolePolicy } from '#shared/domain/policy.ts';
import { IsoDateTime, IsoDuration, PrincipalId, PrincipalType, Slug } from '#shared/domain/primitives.ts';
import { ReviewInput } from '#shared/domain/review.ts';
import { RoleInput } from '#shared/domain/role.ts';
import { Scope } from '#shared/domain/scope.ts';
import { type Target, Targets, targetKey } from '#shared/domain/targets.ts';
import { CliError } from '../errors.ts';
import { printable } from '../text.ts';

const P = RolePolicy.shape;
const A = P.activation.shape;

/** A part of a role policy: any field left out keeps the value it is merged over. Arrays are replaced whole. */
export const PolicyPatch = z
  .strictObject({
    activation: z
      .strictObject({ ...A, approval: A.approval.partial() })
      .partial()
      .optional(),
    eligibleAssignment: P.eligibleAssignment.partial().optional(),
    activeAssignment: P.activeAssignment.partial().optional(),
    notifications: P.notifications.partial().optional(),
    maxScheduleAhead: IsoDuration.optional(),
  })
  .meta({ description: 'A part of a role policy (api.md), merged over what it refines; arrays are replaced whole' });
export type PolicyPatch = z.infer<typeof PolicyPatch>;

/** The mark of what the file manages: the end of a role's or group's description (docs/policy-as-code.md). */
export const MANAGED_MARK = '[managed by elevate.yaml]';
/** A description in the file leaves room for the mark (the API keeps 2,000 characters). */
const Description = z.string().max(2000 - MANAGED_MARK.length - 1);

const RoleEntry = RoleInput.extend({
  description: Description.optional(),
  targets: Targets.shape.targets
    .optional()
    .meta({ description: 'The AWS IAM Identity Center targets of the role; left out: not managed by the file' }),
  policy: PolicyPatch.optional().meta({ description: 'The base policy (scope /), merged over the defaults of api.md' }),
  scopes: z
    .record(Scope, PolicyPatch)
    .optional()
    .meta({ description: "Policies per scope, each merged over the role's resolved base policy" }),
});

/** `never`, an ISO 8601 duration from the assignment (`P180D`), or an end time. */
const EligibilityExpiration = z.union([z.literal('never'), IsoDuration, IsoDateTime]);

const EligibilityEntry = z.strictObject({
  principal: z.strictObject({ type: PrincipalType, id: PrincipalId }),
  role: Slug,
  scope: Scope.default('/'),
  expiration: EligibilityExpiration.meta({
    description: '`never`, a duration from the assignment (P180D), or an end time (2027-06-30T00:00:00Z)',
  }),
});
export type EligibilityEntry = z.infer<typeof EligibilityEntry>;

const unique = <T>(items: readonly T[], key: (t: T) => string, ctx: z.RefinementCtx, field: string, what: string) => {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [field, i], message: `${what} '${k}' is listed twice` });
    seen.add(k);
  });
};

export const ElevateFile = z
  .strictObject({
    apiVersion: z.literal('elevate/v1'),
    roles: z.array(RoleEntry).default([]),
    groups: z.array(GroupInput.extend({ description: Description.optional() })).default([]),
    eligibility: z.array(EligibilityEntry).default([]),
    accessReviews: z
      .array(ReviewInput)
      .optional()
      .meta({ description: 'Access reviews by displayName; left out: not managed by the file' }),
    alertSettings: AlertSettings.partial()
      .optional()
      .meta({ description: 'Alert types given whole, merged over the defaults; left out: not managed by the file' }),
  })
  .superRefine((file, ctx) => {
    unique(file.roles, (r) => r.id, ctx, 'roles', 'role');
    unique(file.groups, (g) => g.id, ctx, 'groups', 'group');
    unique(file.eligibility, eligibilityKey, ctx, 'eligibility', 'eligibility');
    unique(file.accessReviews ?? [], (r) => r.displayName, ctx, 'accessReviews', 'access review');
  })
  .meta({
    title: 'elevate.yaml',
    description: 'Elevate access policy as code (docs/policy-as-code.md)',
  });
export type ElevateFile = z.infer<typeof ElevateFile>;

export const eligibilityKey = (e: { principal: { type: string; id: string }; role: string; scope: string }): string =>
  `${e.principal.type}:${e.principal.id} ${e.role} ${e.scope}`;

/** docs/elevate.schema.json: the file's JSON Schema, for editors. */
export function elevateJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://elevate.dev/schemas/elevate.schema.json',
    ...(z.toJSONSchema(ElevateFile, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
  };
}

/** The text of docs/elevate.schema.json. */
export const elevateSchemaText = (): string => `${JSON.stringify(elevateJsonSchema(), null, 2)}\n`;

// ---- merging -------------------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `patch` over `base`: objects merged key by key, anything else (arrays too) replaced. */
export function mergeOver<T>(base: T, patch: unknown): T {
  if (!isObject(base) || !isObject(patch)) return (patch === undefined ? base : patch) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) out[k] = mergeOver(out[k], v);
  return out as T;
}

/** The smallest patch that turns `base` into `whole` (what export writes). */
export function patchOf(base: unknown, whole: unknown): unknown {
  if (!isObject(base) || !isObject(whole)) return canonical(base) === canonical(whole) ? undefined : whole;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(whole)) {
    const p = patchOf(base[k], v);
    if (p !== undefined) out[k] = p;
  }
  return Object.keys(out).length ? out : undefined;
}

/** JSON with sorted keys: two values are equal when their canonical forms are. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// ---- the desired state ---------------------------------------------------------------------------------

export interface DesiredRole {
  id: string;
  displayName: string;
  description: string | null;
  privileged: boolean;
  /** undefined: the file does not manage the role's targets. */
  targets: Target[] | undefined;
  /** Whole policies by scope, `/` (the base) included. */
  policies: Map<string, RolePolicy>;
}

export interface DesiredEligibility {
  principalType: PrincipalType;
  principalId: string;
  roleId: string;
  scope: string;
  expiration: string;
}

/** What the file asks for, resolved: whole policies, defaults filled in. */
export interface Desired {
  /** A digest of the file's content (what the Idempotency-Keys of its changes derive from). */
  digest: string;
  roles: DesiredRole[];
  groups: { id: string; displayName: string; description: string | null }[];
  eligibility: DesiredEligibility[];
  /** undefined: not managed by the file. */
  accessReviews: ReviewInput[] | undefined;
  alertSettings: AlertSettings | undefined;
}

export const sortTargets = (targets: readonly Target[]): Target[] =>
  [...targets].sort((a, b) => targetKey(a).localeCompare(targetKey(b)));

// ---- loading -------------------------------------------------------------------------------------------

/** A file the CLI refuses: each line names the file, the line and column, and the field. */
export class FileError extends CliError {
  constructor(
    readonly file: string,
    readonly problems: { line: number; column: number; path: string; message: string }[],
  ) {
    super(`${file} is not a valid policy file; nothing was applied`);
    // One line per problem (each made printable: the file is someone else's text).
    this.message = [
      this.message,
      ...problems.map((p) => printable(`  ${file}:${p.line}:${p.column}: ${p.path || '(file)'}: ${p.message}`)),
    ].join('\n');
  }
}

/** `/roles/0/scopes/~1ous~1ou-x`: a JSON Pointer (RFC 6901), how JSON Schema validators name an instance. */
export const pointer = (path: readonly PropertyKey[]): string =>
  path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

export function loadFile(name: string, text: string): Desired {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lines.linePos(offset);
  if (doc.errors.length > 0) {
    throw new FileError(
      name,
      doc.errors.map((e) => {
        const pos = at(e.pos[0]);
        return { line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0] ?? e.code };
      }),
    );
  }
  /** The position of the deepest node of `path` the file has. */
  const locate = (path: readonly PropertyKey[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(
        path.slice(0, n).map((p) => (typeof p === 'symbol' ? String(p) : p)),
        true,
      ) as { range?: [number, number] } | undefined;
      // A map's own range starts at its first key; a scalar's at itself.
      if (node && (isScalar(node) || isMap(node) || 'range' in node) && node.range) return at(node.range[0]);
    }
    return { line: 1, col: 1 };
  };
  const problem = (path: readonly PropertyKey[], message: string) => {
    const pos = locate(path);
    return { line: pos.line, column: pos.col, path: pointer(path), message };
  };
  const parsed = ElevateFile.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new FileError(
      name,
      parsed.error.issues.map((i) => problem(i.path, i.message)),
    );
  }
  const file = parsed.data;
  const problems: ReturnType<typeof problem>[] = [];
  const roles: DesiredRole[] = file.roles.map((r, i) => {
    const base = RolePolicy.parse(mergeOver(defaultPolicy(), r.policy));
    for (const p of policyProblems(base))
      problems.push(problem(['roles', i, 'policy', ...p.path.split('.')], p.message));
    const policies = new Map<string, RolePolicy>([['/', base]]);
    for (const [scope, patch] of Object.entries(r.scopes ?? {})) {
      const whole = RolePolicy.parse(mergeOver(base, patch));
      for (const p of policyProblems(whole)) {
        problems.push(problem(['roles', i, 'scopes', scope, ...p.path.split('.')], p.message));
      }
      if (scope !== '/') policies.set(scope, whole);
      else problems.push(problem(['roles', i, 'scopes', scope], "the base policy is the role's `policy`, not scope /"));
    }
    return {
      id: r.id,
      displayName: r.displayName,
      description: r.description ?? null,
      privileged: r.privileged,
      targets: r.targets ? sortTargets(r.targets) : undefined,
      policies,
    };
  });
  if (problems.length > 0) throw new FileError(name, problems);
  return {
    digest: createHash('sha256').update(text).digest('hex'),
    roles,
    groups: file.groups.map((g) => ({ id: g.id, displayName: g.displayName, description: g.description ?? null })),
    eligibility: file.eligibility.map((e) => ({
      principalType: e.principal.type,
      principalId: e.principal.id,
      roleId: e.role,
      scope: e.scope,
      expiration: e.expiration,
    })),
    accessReviews: file.accessReviews,
    alertSettings: file.alertSettings && mergeOver(defaultAlertSettings(), file.alertSettings),
  };
}
