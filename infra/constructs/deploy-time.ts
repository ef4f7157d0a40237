import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { AppFunction } from '#infra/constructs/app-function.ts';

/**
 * The custom resource provider of a deploy-time task (`handler` is its onEvent function): the provider framework's
 * own function gets an explicit role and log group instead of the managed AWSLambdaBasicExecutionRole policy.
 * Its construct id is `Provider` under `scope`, so its function's logical id contains `Providerframework`.
 */
export function deployTimeProvider(scope: Construct, handler: AppFunction, what: string): Provider {
  const frameworkLogs = new LogGroup(scope, 'ProviderLogs', {
    retention: RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const frameworkRole = new Role(scope, 'ProviderRole', {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `execution role of the elevate ${what} custom resource provider`,
  });
  frameworkRole.addToPolicy(
    new PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [frameworkLogs.logGroupArn],
    }),
  );
  const provider = new Provider(scope, 'Provider', {
    onEventHandler: handler,
    frameworkOnEventRole: frameworkRole,
    logGroup: frameworkLogs,
  });
  // Provider grants invoke on the handler and on its versions/aliases (`<arn>:*`); only the
  // unqualified function is ever invoked, but the statement is the framework's, not ours.
  const handlerArn = Stack.of(scope).getLogicalId(handler.node.defaultChild as CfnFunction);
  Validations.of(frameworkRole).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${handlerArn}.Arn>:*]`,
    reason:
      `the custom resource provider framework grants lambda:InvokeFunction on the ${what} handler and its ` +
      'qualified ARNs; the wildcard only covers versions and aliases of that one function',
  });
  return provider;
}
