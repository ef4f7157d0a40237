import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BundlingOutput, CustomResource, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  CachePolicy,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { AppFunction, REPO_ROOT } from '#infra/constructs/app-function.ts';
import { deployTimeProvider } from '#infra/constructs/deploy-time.ts';
import { contentSecurityPolicy, REWRITE_CODE } from '../../console/hosting.ts';

export interface ConsoleHostingProps {
  /** `config.json`: what the console is told at deploy (API URL, issuer, client id, scope, endpoints). */
  readonly config: Readonly<Record<string, string>>;
  /** What the page may connect to besides its own origin (CSP source expressions: the API, the sign-in). */
  readonly connectSources: readonly string[];
  /** The bucket the console bucket's and the distribution's access logs go to. */
  readonly accessLogs: IBucket;
  /**
   * A value that changes on every deployment, so the console is published at each deploy.
   * @default - the synthesis time (Date.now())
   */
  readonly deployNonce?: string;
}

/**
 * The web console in AWS: a private S3 bucket (public access blocked, TLS only, SSE-S3) that only CloudFront reads,
 * through Origin Access Control; a distribution (HTTPS only, HTTP/2 and 3) whose every answer carries the
 * console's Content-Security-Policy and the usual security headers; a viewer-request function for the deep links;
 * and a deploy-time custom resource that publishes the build (console/build.ts, bundled at synth) and `config.json`.
 */
export class ConsoleHosting extends Construct {
  public readonly bucket: Bucket;
  public readonly distribution: Distribution;
  /** The custom resource's handler (functions/bootstrap/console.ts). */
  public readonly handler: AppFunction;
  /** `https://<distribution domain>` (no trailing slash). */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'console-bucket/',
    });

    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: 'elevate console: CSP and security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(props.connectSources), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });
    const rewrite = new EdgeFunction(this, 'DeepLinks', {
      code: FunctionCode.fromInline(REWRITE_CODE),
      runtime: FunctionRuntime.JS_2_0,
      comment: 'elevate console: deep links answer index.html',
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'elevate console',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: props.accessLogs,
      logFilePrefix: 'console-cdn/',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        functionAssociations: [{ function: rewrite, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}`;
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'the console is static code any browser may load; every datum it shows comes from the API with the ' +
          "user's token, so a geo restriction would protect nothing (an organization may add one)",
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'the distribution serves only the static build (GET of a few files, cached); the API it calls is ' +
          'throttled per route and behind its JWT authorizer, so a WAF here would guard no data',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'the default *.cloudfront.net certificate is used (CloudFront then allows TLSv1 for old clients); put the console behind a custom domain with its own certificate and TLSv1.2_2021 to raise it (docs/console.md)',
      },
    );

    // The build, bundled at synth (esbuild, offline) into one JSON document: what the custom resource publishes.
    const build = new Asset(this, 'Build', {
      path: join(REPO_ROOT, 'console'),
      bundling: {
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20'),
        outputType: BundlingOutput.SINGLE_FILE,
        local: {
          tryBundle(outputDir: string): boolean {
            const run = spawnSync(
              process.execPath,
              ['--import', 'tsx', join(REPO_ROOT, 'console/build.ts'), '--json', join(outputDir, 'console.json')],
              { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
            );
            if (run.status !== 0) throw new Error(`the console build failed (exit ${run.status})`);
            return true;
          },
        },
      },
    });

    this.handler = new AppFunction(this, 'Publisher', {
      entry: 'functions/bootstrap/console.ts',
      description: 'elevate console: publishes the build and config.json into the console bucket',
      timeout: Duration.seconds(60),
    });
    this.handler.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [build.bucket.arnForObjects(build.s3ObjectKey)] }),
    );
    this.handler.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')] }),
    );
    Validations.of(this.handler.role as Construct).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as never)}.Arn>/*]`,
      reason: 'the publisher writes the console build (index.html, assets/*, config.json) into the console bucket only',
    });
    const provider = deployTimeProvider(this, this.handler, 'console publisher');
    new CustomResource(this, 'Published', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ElevateConsole',
      properties: {
        SourceBucket: build.s3BucketName,
        SourceKey: build.s3ObjectKey,
        Bucket: this.bucket.bucketName,
        Config: props.config,
        DeployNonce: props.deployNonce ?? String(Date.now()),
      },
    });
  }
}
