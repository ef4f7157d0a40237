/**
 * Reading a synthesized template (the local runtime and the tests): its Lambda functions, state machine and
 * schedules. Only types come from aws-cdk-lib here, so whoever reads a template it was given (the tests' files,
 * given the one their run synthesized) does not import the stack (seconds); synth.ts synthesizes it.
 */
import type { Template } from 'aws-cdk-lib/assertions';

/** The Metadata keys of every AppFunction's AWS::Lambda::Function resource. */
export const FUNCTION_METADATA = {
  /** The entry file, relative to the repository root (e.g. `functions/workflow/handler.ts`). */
  entry: 'elevate:entry',
  /** The exported handler's name. */
  handler: 'elevate:handler',
  /** The local name (the `localName` prop), when there is one. */
  localName: 'elevate:localName',
} as const;

/** Placeholders for the pseudo parameters in a definition read from a template (see `stateMachineDefinition`). */
export interface DefinitionPlaceholders {
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
}

/** A Lambda function of the template, as the local runtime needs it. */
export interface LocalFunction {
  /** The AWS::Lambda::Function's logical id. */
  readonly logicalId: string;
  /** The entry file, relative to the repository root (e.g. `functions/workflow/handler.ts`). */
  readonly entry: string;
  /** The exported handler's name. */
  readonly handler: string;
  /** The names of the environment variables the template gives it (its capabilities' among them). */
  readonly environment: readonly string[];
}

type TemplateResource = { Type?: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };

function resourcesOf(template: Template): Record<string, TemplateResource> {
  const json = template.toJSON() as { Resources?: Record<string, TemplateResource> };
  return json.Resources ?? {};
}

/**
 * The local name of every AppFunction in the template, by logical id: the `localName` given to it
 * (`elevate-workflow`, `elevate-<schedule name>`) or else its logical id. Read from the function resource's
 * Metadata (FUNCTION_METADATA), which AppFunction writes.
 */
export function lambdaFunctionNames(template: Template): Record<string, string> {
  const names: Record<string, string> = {};
  for (const [logicalId, resource] of Object.entries(resourcesOf(template))) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const localName = resource.Metadata?.[FUNCTION_METADATA.localName];
    names[logicalId] = typeof localName === 'string' ? localName : logicalId;
  }
  return names;
}

/**
 * Every AppFunction of the template by local name: its logical id, entry file and handler export. This is
 * how the local runtime maps a name in the ASL (`elevate-workflow`) or a schedule (`elevate-reconcile`) to
 * the TypeScript handler to run.
 */
export function localFunctions(template: Template): Record<string, LocalFunction> {
  const names = lambdaFunctionNames(template);
  const found: Record<string, LocalFunction> = {};
  for (const [logicalId, resource] of Object.entries(resourcesOf(template))) {
    const entry = resource.Metadata?.[FUNCTION_METADATA.entry];
    if (resource.Type !== 'AWS::Lambda::Function' || typeof entry !== 'string') continue;
    const handler = resource.Metadata?.[FUNCTION_METADATA.handler];
    const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    found[names[logicalId] ?? logicalId] = {
      logicalId,
      entry,
      handler: typeof handler === 'string' ? handler : 'handler',
      environment: Object.keys(variables ?? {}).sort(),
    };
  }
  return found;
}

/**
 * The state machine's ASL as a JSON object, runnable by the local runtime, and the local names of the Lambda
 * functions it calls (by logical id).
 *
 * The template's DefinitionString is an `Fn::Join` of strings and tokens; the tokens are resolved as follows:
 * - `Fn::GetAtt [<function>, Arn]` of a Lambda function: its local name (see `lambdaFunctionNames`, e.g.
 *   `elevate-workflow`) where it is a whole `Parameters.FunctionName` (optimized `lambda:invoke`), and the
 *   placeholder ARN `arn:<partition>:lambda:<region>:<account>:function:<local name>` everywhere else (a
 *   `Resource` of a payload-only Lambda task, which must stay an ARN);
 * - `Ref AWS::Partition`, `AWS::Region`, `AWS::AccountId`, `AWS::URLSuffix`: the placeholders;
 * - any other `Ref X` / `Fn::GetAtt [X, Attr]`: the placeholder string `${X}` / `${X.Attr}`.
 * Throws unless the template has exactly one state machine (or `logicalId` names one).
 */
export function stateMachineDefinition(
  template: Template,
  options: DefinitionPlaceholders & { logicalId?: string } = {},
): { definition: Record<string, unknown>; lambdaFunctionNames: Record<string, string> } {
  const partition = options.partition ?? 'aws';
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const resources = resourcesOf(template);
  const machines = Object.entries(resources).filter(
    ([id, r]) =>
      r.Type === 'AWS::StepFunctions::StateMachine' && (options.logicalId === undefined || id === options.logicalId),
  );
  if (machines.length !== 1) {
    throw new Error(`expected exactly one state machine in the template, found ${machines.length}; pass its logicalId`);
  }
  const source = machines[0]?.[1].Properties?.DefinitionString;
  const allNames = lambdaFunctionNames(template);
  const used: Record<string, string> = {};
  const marker = (logicalId: string): string => `@@elevate-function:${logicalId}@@`;
  const pseudo: Record<string, string> = {
    'AWS::Partition': partition,
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const part = (value: unknown): string => {
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && value !== null) {
      const ref = (value as { Ref?: unknown }).Ref;
      if (typeof ref === 'string') return pseudo[ref] ?? `\${${ref}}`;
      const getAtt = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
      if (Array.isArray(getAtt) && typeof getAtt[0] === 'string' && typeof getAtt[1] === 'string') {
        const [logicalId, attribute] = getAtt as [string, string];
        const name = allNames[logicalId];
        if (attribute === 'Arn' && name !== undefined) {
          used[logicalId] = name;
          return marker(logicalId);
        }
        return `\${${logicalId}.${attribute}}`;
      }
    }
    throw new Error(`unsupported token in the state machine definition: ${JSON.stringify(value)}`);
  };
  let text: string;
  if (typeof source === 'string') text = source;
  else {
    const join = (source as { 'Fn::Join'?: unknown } | undefined)?.['Fn::Join'];
    if (!Array.isArray(join) || join[0] !== '' || !Array.isArray(join[1])) {
      throw new Error('the state machine DefinitionString is neither a string nor an Fn::Join with an empty separator');
    }
    text = (join[1] as unknown[]).map(part).join('');
  }
  const markers = /@@elevate-function:([A-Za-z0-9]+)@@/g;
  const arnOf = (logicalId: string): string =>
    `arn:${partition}:lambda:${region}:${accountId}:function:${allNames[logicalId] ?? logicalId}`;
  const definition = JSON.parse(text, function (this: Record<string, unknown>, key: string, value: unknown) {
    if (typeof value !== 'string' || !value.includes('@@elevate-function:')) return value;
    const whole = /^@@elevate-function:([A-Za-z0-9]+)@@$/.exec(value);
    if (whole && key === 'FunctionName') return allNames[whole[1] as string];
    return value.replace(markers, (_m, logicalId: string) => arnOf(logicalId));
  }) as Record<string, unknown>;
  return { definition, lambdaFunctionNames: used };
}

/** One scheduled job of the template: its rule, its schedule expression and its target's local name. */
export interface ScheduledTarget {
  readonly ruleLogicalId: string;
  readonly expression: string;
  /** The target function's local name (`elevate-<name>`). */
  readonly functionName: string;
}

/** The schedule rules of the template and the local names of the functions they invoke. */
export function scheduledTargets(template: Template): ScheduledTarget[] {
  const names = lambdaFunctionNames(template);
  const found: ScheduledTarget[] = [];
  for (const [ruleLogicalId, resource] of Object.entries(resourcesOf(template))) {
    const expression = resource.Properties?.ScheduleExpression;
    if (resource.Type !== 'AWS::Events::Rule' || typeof expression !== 'string') continue;
    const targets = (resource.Properties?.Targets ?? []) as { Arn?: { 'Fn::GetAtt'?: [string, string] } }[];
    for (const target of targets) {
      const logicalId = target.Arn?.['Fn::GetAtt']?.[0];
      const name = logicalId === undefined ? undefined : names[logicalId];
      if (name !== undefined) found.push({ ruleLogicalId, expression, functionName: name });
    }
  }
  return found;
}
