import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';

/** Where exports go inside the bucket; the grants cover this prefix only. */
export const AUDIT_PREFIX = 'audit/';

export interface AuditBucketProps {
  /** Object Lock default retention in days (compliance mode: nobody, root included, can shorten or delete). */
  readonly retentionDays: number;
}

/**
 * The audit export bucket: versioned, SSE-S3 encrypted, public access blocked, TLS only, Object Lock in
 * compliance mode (default retention from the stack parameter), lifecycle to Standard-IA after 30 days and
 * Glacier Instant Retrieval after 90, server access logs to a log bucket of its own. SSE-S3 rather than KMS:
 * the presigned GET an auditor gets then needs s3:GetObject only, no key policy.
 */
export class AuditBucket extends Construct {
  public readonly bucket: Bucket;
  public readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: AuditBucketProps) {
    super(scope, id);
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(400) }],
    });
    this.bucket = new Bucket(this, 'Bucket', {
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectLockEnabled: true,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'audit-bucket/',
      lifecycleRules: [
        {
          transitions: [
            { storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
            { storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
          ],
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    // The retention is a CloudFormation parameter (a token), so it is set on the L1 resource.
    (this.bucket.node.defaultChild as CfnBucket).objectLockConfiguration = {
      objectLockEnabled: 'Enabled',
      rule: { defaultRetention: { mode: 'COMPLIANCE', days: props.retentionDays } },
    };
  }

  private objects(): string {
    return `${this.bucket.bucketArn}/${AUDIT_PREFIX}*`;
  }

  /** The prefix wildcard is the narrowest grant: export object keys are made at run time. */
  private acknowledgePrefix(grantee: IGrantable, what: string): void {
    const id = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    Validations.of(grantee.grantPrincipal as unknown as IConstruct).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${id}.Arn>/${AUDIT_PREFIX}*]`,
      reason: `${what} objects under the audit/ prefix only; each export's key (audit/YYYY/MM/DD/<exportId>...) is made at run time`,
    });
  }

  /** The export job: write objects (single or multipart) under the prefix, nothing else. */
  grantWriteExports(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [this.objects()],
      }),
    );
    this.acknowledgePrefix(grantee, 'writes (single and multipart)');
  }

  /** The API function that presigns downloads: read objects under the prefix. */
  grantReadExports(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.objects()] }),
    );
    this.acknowledgePrefix(grantee, 'reads (to presign downloads of)');
  }
}
