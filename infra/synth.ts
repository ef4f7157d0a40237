import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REPO_ROOT } from '#infra/constructs/app-function.ts';
import { ElevateStack, type ElevateStackProps } from '#infra/stack.ts';

/** The stack's name (and construct id). */
export const STACK_NAME = 'Elevate';

/** The feature flags and settings in cdk.json, so an in-process app synthesizes what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson: unknown = JSON.parse(readFileSync(resolve(REPO_ROOT, 'cdk.json'), 'utf8'));
  if (typeof cdkJson !== 'object' || cdkJson === null) throw new Error('cdk.json must hold a JSON object');
  const context = (cdkJson as { context?: unknown }).context;
  return typeof context === 'object' && context !== null ? (context as Record<string, unknown>) : {};
}

export interface ElevateAppOptions {
  /**
   * Whether to bundle the functions with esbuild. Without bundling, functions get placeholder code and
   * their entry files are not read (fast; for reading the template).
   * @default true
   */
  readonly bundling?: boolean;
  /**
   * Whether to register the cdk-nag AwsSolutions checks (run when the app synthesizes).
   * @default true
   */
  readonly nag?: boolean;
  /**
   * Whether to run CDK's built-in CloudFormation template validation at synth (about 1.5 s).
   * @default true
   */
  readonly cloudFormationValidation?: boolean;
  /** Extra context (e.g. `oidcIssuer`), merged over cdk.json's. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Props of the stack. */
  readonly stackProps?: ElevateStackProps;
  /** AppProps to pass through (e.g. `outdir`). */
  readonly appProps?: Omit<AppProps, 'context'>;
}

/** Builds the Elevate app (one stack, cdk-nag AwsSolutions checks registered unless `nag: false`). */
export function buildApp(options: ElevateAppOptions = {}): { app: App; stack: ElevateStack } {
  const context: Record<string, unknown> = { ...cdkJsonContext(), ...options.context };
  if (options.bundling === false) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({
    ...options.appProps,
    context,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? true,
  });
  const stack = new ElevateStack(app, STACK_NAME, options.stackProps);
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

/**
 * Synthesizes the Elevate stack in a fresh app and returns its template. With `bundling: false` no esbuild
 * runs (context `aws:cdk:bundling-stacks: []`): the local runtime and the tests read the table definition
 * (and later the state machine ASL) this way. Neither cdk-nag nor CDK's built-in CloudFormation validation
 * runs here (`cdk synth` and the infra tests run them), which keeps this at about a second.
 */
export function synthTemplate(options: { bundling?: boolean } = {}): Template {
  const { stack } = buildApp({ ...options, nag: false, cloudFormationValidation: false });
  return Template.fromStack(stack);
}

export { tableCreateInput, tableTimeToLiveAttribute } from '#infra/local-table.ts';
