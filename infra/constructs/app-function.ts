import { existsSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  type CfnFunction,
  Code,
  type FunctionProps,
  Function as LambdaFunction,
  LoggingFormat,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type BuildOptions, buildSync } from 'esbuild';
import { DYNAMIC_REQUIRE, requireExternalsInDir, STATIC_REQUIRE } from '#infra/constructs/require-externals.ts';
import { FUNCTION_METADATA } from '#infra/template.ts';

/** The repository root: the esbuild project root and the home of package-lock.json. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The runtime every Elevate function runs on (the architecture brief fixes Node 22). */
export const HOUSE_RUNTIME = Runtime.NODEJS_22_X;

/**
 * Gives bundled ESM a CommonJS `require`, for the few dependencies that still call it, and the two helpers the
 * external packages are loaded through once built (require-externals.ts: at load, and on first use as a promise).
 * The alias keeps it clear of any `createRequire` the bundle itself may declare.
 */
const ESM_REQUIRE_BANNER = `import { createRequire as __elevateCreateRequire } from 'node:module'; const require = __elevateCreateRequire(import.meta.url), ${STATIC_REQUIRE} = require, ${DYNAMIC_REQUIRE} = (s) => Promise.resolve().then(() => require(s));`;

/** The house esbuild options every function is built with (and the cold-start bench's floor, bench/cold.ts). */
export const HOUSE_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  banner: { js: ESM_REQUIRE_BANNER },
} as const satisfies BuildOptions;

/**
 * Writes one function's bundle into `outputDir` with the local esbuild (offline, no Docker): minified ESM for Node 22
 * with source maps, split into `index.mjs` (the handler and what it imports statically) and chunk files for the code
 * it reaches only through a dynamic `import()`, so that code is read, compiled and evaluated on first use, not at
 * cold start. The chunks are the function's own (every function has its own asset): nothing is shared between
 * functions. `@aws-sdk/*` (unless `bundleAwsSdk`) and `@slack/web-api` stay external, and are then loaded through
 * `require` (require-externals.ts).
 */
export function bundleFunction(entry: string, outputDir: string, opts: { bundleAwsSdk?: boolean } = {}): void {
  buildSync({
    entryPoints: { index: entry },
    absWorkingDir: REPO_ROOT,
    outdir: outputDir,
    outExtension: { '.js': '.mjs' },
    ...HOUSE_BUILD_OPTIONS,
    mainFields: [...HOUSE_BUILD_OPTIONS.mainFields],
    splitting: true,
    chunkNames: '[name]-[hash]',
    external: [
      ...(opts.bundleAwsSdk ? SDK_CLIENTS_LEFT_TO_THE_RUNTIME : ['@aws-sdk/*']),
      // Slack's Web API client (~310 KB minified) is in no bundle: the functions that talk to Slack get it from the
      // SlackClient layer (slack-layer.ts), loaded on first use (shared/ports/slack.ts).
      '@slack/web-api',
    ],
    logLevel: 'error',
  });
  requireExternalsInDir(outputDir);
}

/** Stands in for the bundle when the stack is synthesized without bundling (never deployable). */
const UNBUNDLED_PLACEHOLDER =
  "exports.handler = async () => { throw new Error('synthesized without bundling: run cdk synth to bundle'); };";

/**
 * With `bundleAwsSdk`, the clients whose behaviour the function's correctness does not rest on stay with the Lambda
 * runtime, as in every other function: DynamoDB and Lambda (used the same way by every function), and the clients of
 * Deps it never calls (every adapter loads its SDK lazily, shared/ports/lazy.ts). The bundle carries only S3 (client,
 * multipart upload, presigner): the Object Lock writes run on the S3 SDK they were tested with.
 */
const SDK_CLIENTS_LEFT_TO_THE_RUNTIME = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/util-dynamodb',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-eventbridge',
  '@aws-sdk/client-identitystore',
  '@aws-sdk/client-organizations',
  '@aws-sdk/client-sesv2',
  '@aws-sdk/client-sfn',
  '@aws-sdk/client-sso-admin',
];

export interface AppFunctionProps {
  /**
   * The TypeScript entry file, relative to the repository root (e.g. `functions/api/roles.ts`),
   * or absolute. It must export the handler named by `handler`.
   */
  readonly entry: string;

  /**
   * The exported handler function's name.
   * @default 'handler'
   */
  readonly handler?: string;

  /**
   * The name the local runtime invokes the function by (e.g. `elevate-workflow`): recorded, with the entry,
   * in the function resource's Metadata (`FUNCTION_METADATA`), so that `stateMachineDefinition` and
   * `localFunctions` (infra/synth.ts) can map the template's logical ids to local handlers.
   * @default - the function's logical id
   */
  readonly localName?: string;

  /**
   * What the function is for (shown in the Lambda console).
   * @default - no description
   */
  readonly description?: string;

  /**
   * Environment variables, added to the house ones (`NODE_OPTIONS=--enable-source-maps`).
   * @default - only the house variables
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * Memory size in MB.
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * Bundle the AWS SDK into the function instead of leaving `@aws-sdk/*` to the Lambda runtime: for code whose
   * correctness depends on the SDK's behaviour (the audit export's S3 writes to an Object Lock bucket), so that it
   * runs the version it was tested with. Costs bundle size (about 800 KB more) and some cold-start time.
   * @default false
   */
  readonly bundleAwsSdk?: boolean;

  /**
   * The function timeout.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;

  /**
   * How long the function's log group keeps its events.
   * One year covers an operational incident review and most audit look-backs; the audit trail
   * itself lives in DynamoDB and the S3 exports, not in logs.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: RetentionDays;

  /**
   * What happens to the log group when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A Lambda function with Elevate's house defaults: Node 22 on arm64, bundled offline with the local
 * esbuild into minified ESM with source maps, split into `index.mjs` and the chunks loaded on first use
 * (`bundleFunction`), the AWS SDK v3 left to the runtime (unless `bundleAwsSdk`), 512 MB, 10 s, and an
 * explicit log group with a retention (instead of the deprecated `logRetention` custom resource).
 *
 * X-Ray active tracing is deliberately off: the AwsSolutions pack does not ask for it, and it would add a
 * `Resource: *` statement to every role.
 *
 * When the stack is synthesized with bundling skipped (context `aws:cdk:bundling-stacks: []`, as
 * `synthTemplate({ bundling: false })` does), the code is an inline placeholder and the entry file is
 * not read, so the template can be read before (or without) the handlers being built.
 */
export class AppFunction extends LambdaFunction {
  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    const entry = resolve(REPO_ROOT, props.entry);
    const bundling = Stack.of(scope).bundlingRequired;
    if (bundling && !existsSync(entry)) {
      throw new Error(`app function ${id}: entry file ${entry} does not exist; create it or fix the entry path`);
    }
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An explicit role instead of the AWSLambdaBasicExecutionRole managed policy: it may write to its own
    // log group only (the log group ARN already ends in `:*`, which covers its streams).
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `execution role of ${id}`,
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const handler = props.handler ?? 'handler';
    const shared: Omit<FunctionProps, 'code' | 'handler'> = {
      runtime: HOUSE_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      logGroup,
      // JSON lines with the invocation's requestId on every line the runtime prints (ours carry it too: log.ts).
      loggingFormat: LoggingFormat.JSON,
      role,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      ...(props.description === undefined ? {} : { description: props.description }),
    };
    const relativeEntry = relative(REPO_ROOT, entry).split(sep).join('/');
    const code = bundling
      ? Code.fromAsset(REPO_ROOT, {
          assetHashType: AssetHashType.OUTPUT,
          bundling: {
            // Never pulled: the local bundling below always succeeds or throws.
            image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
            // Part of the asset cache key (the local bundler's options are not): one bundle per entry and options.
            command: ['esbuild', relativeEntry, ...(props.bundleAwsSdk ? ['--bundle-aws-sdk'] : [])],
            local: {
              tryBundle(outputDir: string): boolean {
                bundleFunction(entry, outputDir, { bundleAwsSdk: props.bundleAwsSdk ?? false });
                return true;
              },
            },
          },
        })
      : Code.fromInline(UNBUNDLED_PLACEHOLDER);
    super(scope, id, { ...shared, code, handler: `index.${handler}` });
    const resource = this.node.defaultChild as CfnFunction;
    resource.addMetadata(FUNCTION_METADATA.entry, relativeEntry);
    resource.addMetadata(FUNCTION_METADATA.handler, handler);
    if (props.localName !== undefined) resource.addMetadata(FUNCTION_METADATA.localName, props.localName);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is the house runtime fixed by the architecture brief and matched by the local toolchain; ' +
        'moving to a newer runtime is a deliberate, tested upgrade, not a synth-time default',
    });
  }
}
