import { CustomResource, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AppFunction } from '#infra/constructs/app-function.ts';
import type { IDataTable } from '#infra/constructs/data.ts';
import { deployTimeProvider } from '#infra/constructs/deploy-time.ts';

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

    const provider = deployTimeProvider(this, this.handler, 'bootstrap');

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
