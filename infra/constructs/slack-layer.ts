import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Architecture, Code, LayerVersion } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { HOUSE_RUNTIME, REPO_ROOT } from '#infra/constructs/app-function.ts';

/** The package the layer carries, as the functions require it (shared/ports/slack.ts). */
export const SLACK_CLIENT_PACKAGE = '@slack/web-api';

/**
 * Writes the layer's content into `outputDir`: `@slack/web-api` (the version of package-lock.json) bundled with its
 * dependencies into one minified CommonJS file, `nodejs/node_modules/@slack/web-api/index.js`, where Node's module
 * resolution finds it through the Lambda runtime's NODE_PATH (`/opt/nodejs/node_modules`).
 */
export function bundleSlackClient(outputDir: string): void {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  const entry = require.resolve(SLACK_CLIENT_PACKAGE);
  const manifest = JSON.parse(readFileSync(require.resolve(`${SLACK_CLIENT_PACKAGE}/package.json`), 'utf8')) as {
    version: string;
    license?: string;
  };
  const dir = join(outputDir, 'nodejs', 'node_modules', ...SLACK_CLIENT_PACKAGE.split('/'));
  mkdirSync(dir, { recursive: true });
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    legalComments: 'eof',
    outfile: join(dir, 'index.js'),
    logLevel: 'error',
  });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: SLACK_CLIENT_PACKAGE, version: manifest.version, license: manifest.license, main: 'index.js' })}\n`,
  );
}

/**
 * The Slack Web API client as a Lambda layer. The Lambda runtime provides the AWS SDK and nothing else: a function
 * that bundled `@slack/web-api` (with axios and mime-db, ~310 KB minified) would break the bundling bar, so no
 * function bundles it (app-function.ts keeps it external) and the functions that talk to Slack (capability `slack`)
 * get this layer. Synthesized without bundling, the layer's code is its source folder (never deployable).
 */
export class SlackClientLayer extends Construct {
  readonly layer: LayerVersion;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const code = Code.fromAsset(resolve(REPO_ROOT, 'infra', 'layers', 'slack-web-api'), {
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never pulled: the local bundling below always succeeds or throws.
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
        local: {
          tryBundle(outputDir: string): boolean {
            bundleSlackClient(outputDir);
            return true;
          },
        },
      },
    });
    this.layer = new LayerVersion(this, 'Layer', {
      code,
      compatibleRuntimes: [HOUSE_RUNTIME],
      compatibleArchitectures: [Architecture.ARM_64],
      description: `${SLACK_CLIENT_PACKAGE} for the functions that talk to Slack (docs/slack.md)`,
    });
  }
}
