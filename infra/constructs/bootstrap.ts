import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AppFunction } from '#infra/constructs/app-function.ts';
import type { IDataTable } from '#infra/constructs/data.ts';

export interface BootstrapProps {
  /** The table the bootstrap handler writes the break-glass assignments to. */
  readonly data: IDataTable;

  /** The break-glass principal ids, comma-separated (may be a parameter token; empty means none). */
  readonly bootstrapAdmins: string;

  /**
   * Environment variables for the bootstrap handler.
   * @default - none beyond the house defaults
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * A value that changes on every deployment, so the custom resource is updated (and the handler runs)
   * at each deploy even when the admins did not change: a lost or revoked break-glass assignment is
   * restored by the next deploy.
   * @default - the synthesis time (Date.now())
   */
  readonly deployNonce?: string;
}

/**
 * Grants the break-glass admins (`BootstrapAdmins`) a permanent active `elevate-admin` assignment at
 * deploy time: a custom resource whose provider runs `functions/bootstrap/handler.ts`.
 * It runs on every deploy (the `DeployNonce` property changes each synthesis) and whenever the
 * admins change (`BootstrapAdmins` is a property of the resource).
 */
export class Bootstrap extends Construct {
  /** The onEvent handler. */
  public readonly handler: AppFunction;

  /** The custom resource. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: BootstrapProps) {
    super(scope, id);
    this.handler = new AppFunction(this, 'Handler', {
      entry: 'functions/bootstrap/handler.ts',
      description: 'elevate bootstrap: grants the break-glass admins elevate-admin',
      timeout: Duration.seconds(60),
      ...(props.environment === undefined ? {} : { environment: props.environment }),
    });
    props.data.grantReadWriteData(this.handler);

    // The provider framework's own function: an explicit role and log group instead of the managed
    // AWSLambdaBasicExecutionRole policy.
    const frameworkLogs = new LogGroup(this, 'ProviderLogs', {
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const frameworkRole = new Role(this, 'ProviderRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'execution role of the elevate bootstrap custom resource provider',
    });
    frameworkRole.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [frameworkLogs.logGroupArn],
      }),
    );
    const provider = new Provider(this, 'Provider', {
      onEventHandler: this.handler,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    });
    // Provider grants invoke on the handler and on its versions/aliases (`<arn>:*`); only the
    // unqualified function is ever invoked, but the statement is the framework's, not ours.
    const handlerArn = Stack.of(this).getLogicalId(this.handler.node.defaultChild as CfnFunction);
    Validations.of(frameworkRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${handlerArn}.Arn>:*]`,
      reason:
        'the custom resource provider framework grants lambda:InvokeFunction on the bootstrap handler and its ' +
        'qualified ARNs; the wildcard only covers versions and aliases of that one function',
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ElevateBootstrap',
      properties: {
        BootstrapAdmins: props.bootstrapAdmins,
        DeployNonce: props.deployNonce ?? String(Date.now()),
      },
    });
  }
}
