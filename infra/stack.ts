import { CfnParameter, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Api } from '#infra/constructs/api.ts';
import { Bootstrap } from '#infra/constructs/bootstrap.ts';
import { DataTable } from '#infra/constructs/data.ts';

/** The parameters' defaults, each overridable with a context value (`cdk synth -c oidcIssuer=...`). */
export const PARAMETER_DEFAULTS = {
  oidcIssuer: 'https://idp.example.com',
  oidcAudience: 'elevate',
  bootstrapAdmins: '',
  senderAddress: 'elevate@example.com',
} as const;

export type ParameterContextKey = keyof typeof PARAMETER_DEFAULTS;

export interface ElevateStackProps extends StackProps {
  /**
   * Passed to the bootstrap custom resource so it runs at each deploy.
   * @default - the synthesis time
   */
  readonly deployNonce?: string;
}

/** Elevate: the table, the HTTP API and the break-glass bootstrap. */
export class ElevateStack extends Stack {
  public readonly data: DataTable;
  public readonly api: Api;
  public readonly bootstrap: Bootstrap;

  constructor(scope: Construct, id: string, props: ElevateStackProps = {}) {
    super(scope, id, props);

    const fromContext = (key: ParameterContextKey): string => {
      const value: unknown = this.node.tryGetContext(key);
      if (value === undefined) return PARAMETER_DEFAULTS[key];
      if (typeof value !== 'string') throw new Error(`context ${key} must be a string; pass it as -c ${key}=...`);
      return value;
    };

    const issuer = new CfnParameter(this, 'OidcIssuer', {
      type: 'String',
      description: 'Issuer URL of the OIDC provider whose JWTs the API accepts (the iss claim)',
      default: fromContext('oidcIssuer'),
      allowedPattern: '^https://\\S+$',
      constraintDescription: 'must be an https URL',
    });
    const audience = new CfnParameter(this, 'OidcAudience', {
      type: 'String',
      description: 'Comma-separated audiences the API accepts (the aud claim)',
      default: fromContext('oidcAudience'),
      minLength: 1,
    });
    const bootstrapAdmins = new CfnParameter(this, 'BootstrapAdmins', {
      type: 'String',
      description: 'Comma-separated principal ids (sub) of the break-glass admins; empty for none',
      default: fromContext('bootstrapAdmins'),
    });
    const senderAddress = new CfnParameter(this, 'SenderAddress', {
      type: 'String',
      description: 'The SES-verified address Elevate sends mail from',
      default: fromContext('senderAddress'),
    });

    this.data = new DataTable(this, 'Data');

    const environment: Record<string, string> = {
      TABLE_NAME: this.data.table.tableName,
      ELEVATE_BOOTSTRAP_ADMINS: bootstrapAdmins.valueAsString,
      ELEVATE_ISSUER: issuer.valueAsString,
      ELEVATE_AUDIENCE: audience.valueAsString,
      ELEVATE_SENDER_ADDRESS: senderAddress.valueAsString,
    };

    this.api = new Api(this, 'Api', {
      data: this.data,
      jwtIssuer: issuer.valueAsString,
      jwtAudience: Fn.split(',', audience.valueAsString),
      environment,
    });

    this.bootstrap = new Bootstrap(this, 'Bootstrap', {
      data: this.data,
      bootstrapAdmins: bootstrapAdmins.valueAsString,
      environment,
      ...(props.deployNonce === undefined ? {} : { deployNonce: props.deployNonce }),
    });
  }
}
