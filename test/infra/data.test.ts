import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableCreateInput, tableTimeToLiveAttribute } from '#infra/local-table.ts';
import { synthTemplate } from '#infra/synth.ts';
import { TABLE } from '#shared/store/table.ts';

type Template = ReturnType<typeof synthTemplate>;
let template: Template;

beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 60_000);

// Expected shapes are derived from TABLE, the single source of the key names.
const keySchema = (pk: string, sk: string) => [
  { AttributeName: pk, KeyType: 'HASH' },
  { AttributeName: sk, KeyType: 'RANGE' },
];
const attributeDefinitions = [
  TABLE.partitionKey,
  TABLE.sortKey,
  ...TABLE.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
].map((name) => ({ AttributeName: name, AttributeType: 'S' }));
const globalSecondaryIndexes = TABLE.globalSecondaryIndexes.map((i) => ({
  IndexName: i.indexName,
  KeySchema: keySchema(i.partitionKey, i.sortKey),
  Projection: { ProjectionType: 'ALL' },
}));

describe('data table', () => {
  it('is the one table, keyed, indexed and expiring exactly as TABLE says', () => {
    // Assess
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: keySchema(TABLE.partitionKey, TABLE.sortKey),
      AttributeDefinitions: attributeDefinitions,
      GlobalSecondaryIndexes: globalSecondaryIndexes,
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: TABLE.timeToLiveAttribute, Enabled: true },
    });
  });

  it('keeps its data: point-in-time recovery, deletion protection, retained on removal', () => {
    // Assess
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
  });

  it('encrypts at rest with the AWS-managed KMS key', () => {
    // Assess
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    });
    template.resourceCountIs('AWS::KMS::Key', 0);
  });
});

describe('tableCreateInput', () => {
  it('turns the synthesized table into the DynamoDB Local CreateTable input', () => {
    // Act
    const input = tableCreateInput(template, 'elevate-test-1');

    // Assess
    expect(input).toEqual({
      TableName: 'elevate-test-1',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: keySchema(TABLE.partitionKey, TABLE.sortKey),
      AttributeDefinitions: attributeDefinitions,
      GlobalSecondaryIndexes: globalSecondaryIndexes,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    });
  });

  it('reads the TTL attribute for the separate UpdateTimeToLive call', () => {
    // Act
    const ttl = tableTimeToLiveAttribute(template);

    // Assess
    expect(ttl).toBe(TABLE.timeToLiveAttribute);
  });
});
