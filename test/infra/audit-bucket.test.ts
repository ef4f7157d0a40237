import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthTemplate } from '#infra/synth.ts';

type Template = ReturnType<typeof synthTemplate>;
let template: Template;
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is read loosely
type Res = { Properties: any };

beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 60_000);

const bucketId = () => {
  const found = Object.keys(template.findResources('AWS::S3::Bucket')).filter((k) =>
    /^AuditBucket[0-9A-F]{8}$/.test(k),
  );
  expect(found).toHaveLength(1);
  return found[0] as string;
};

function statementsOf(rolePrefix: RegExp): unknown[] {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy') as Record<string, Res>).filter(([k]) =>
    rolePrefix.test(k),
  );
  expect(policies).toHaveLength(1);
  return (policies[0]?.[1].Properties.PolicyDocument.Statement ?? []) as unknown[];
}

const onPrefix = () => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId(), 'Arn'] }, '/audit/*']] });

describe('audit bucket', () => {
  it('is versioned, encrypted, private, logged, with Object Lock in compliance mode for the retention parameter', () => {
    template.hasParameter('AuditRetentionDays', { Type: 'Number', Default: 400 });
    template.hasResource('AWS::S3::Bucket', {
      UpdateReplacePolicy: 'Retain',
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: { Ref: 'AuditRetentionDays' } } },
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'audit-bucket/' }),
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              Transitions: [
                { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
                { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
              ],
            }),
          ],
        },
      }),
    });
    bucketId();
  });

  it('denies anything but TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('the export job may only write under audit/; the exports API may only read there and start the job', () => {
    const job = statementsOf(/^SchedulesAuditExportFunctionRoleDefaultPolicy/);
    expect(job).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject'],
      Resource: onPrefix(),
    });
    expect(JSON.stringify(job)).not.toMatch(/s3:GetObject|s3:Delete|lambda:/);
    const api = statementsOf(/^ApiExportsFunctionRoleDefaultPolicy/);
    expect(api).toContainEqual({ Effect: 'Allow', Action: 's3:GetObject', Resource: onPrefix() });
    expect(api).toContainEqual(expect.objectContaining({ Effect: 'Allow', Action: 'lambda:InvokeFunction' }));
    expect(JSON.stringify(api)).not.toMatch(/s3:PutObject|s3:Delete/);
    // other API functions get nothing of the bucket
    expect(JSON.stringify(statementsOf(/^ApiRolesFunctionRoleDefaultPolicy/))).not.toMatch(/s3:|AuditBucket/);
  });
});
