import type {
  AttributeDefinition,
  CreateTableCommandInput,
  GlobalSecondaryIndex,
  KeySchemaElement,
  Projection,
} from '@aws-sdk/client-dynamodb';
import type { Template } from 'aws-cdk-lib/assertions';

const TABLE_TYPES = ['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'] as const;

/** The parts of a synthesized AWS::DynamoDB::Table or AWS::DynamoDB::GlobalTable that a local table needs. */
interface SynthesizedTable {
  readonly KeySchema: KeySchemaElement[];
  readonly AttributeDefinitions: AttributeDefinition[];
  readonly GlobalSecondaryIndexes?: { IndexName: string; KeySchema: KeySchemaElement[]; Projection?: Projection }[];
  readonly TimeToLiveSpecification?: { AttributeName?: string; Enabled?: boolean };
  readonly StreamSpecification?: { StreamViewType?: string };
}

/** The one DynamoDB table resource of the template; throws unless there is exactly one. */
function theTable(template: Template): SynthesizedTable {
  const found = TABLE_TYPES.flatMap((type) => Object.values(template.findResources(type)));
  if (found.length !== 1) {
    throw new Error(`expected exactly one dynamodb table in the template, found ${found.length}; check infra/stack.ts`);
  }
  const properties: unknown = (found[0] as { Properties?: unknown }).Properties;
  if (typeof properties !== 'object' || properties === null || !('KeySchema' in properties)) {
    throw new Error('the synthesized dynamodb table has no KeySchema; check infra/constructs/data.ts');
  }
  return properties as SynthesizedTable;
}

/**
 * The CreateTable input that builds, in DynamoDB Local, the table the template deploys: the same key schema,
 * attribute definitions, global secondary indexes and stream, on-demand. TTL is not part of CreateTable: call
 * UpdateTimeToLive with `tableTimeToLiveAttribute(template)`.
 */
export function tableCreateInput(template: Template, tableName: string): CreateTableCommandInput {
  const table = theTable(template);
  const input: CreateTableCommandInput = {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: table.KeySchema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType })),
    AttributeDefinitions: table.AttributeDefinitions.map((a) => ({
      AttributeName: a.AttributeName,
      AttributeType: a.AttributeType,
    })),
  };
  const streamViewType = table.StreamSpecification?.StreamViewType;
  if (streamViewType !== undefined) {
    input.StreamSpecification = {
      StreamEnabled: true,
      StreamViewType: streamViewType as NonNullable<CreateTableCommandInput['StreamSpecification']>['StreamViewType'],
    };
  }
  const indexes = table.GlobalSecondaryIndexes ?? [];
  if (indexes.length > 0) {
    input.GlobalSecondaryIndexes = indexes.map(
      (index): GlobalSecondaryIndex => ({
        IndexName: index.IndexName,
        KeySchema: index.KeySchema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType })),
        Projection: index.Projection ?? { ProjectionType: 'ALL' },
      }),
    );
  }
  return input;
}

/** The table's TTL attribute name, or undefined when the table has no TTL. */
export function tableTimeToLiveAttribute(template: Template): string | undefined {
  const ttl = theTable(template).TimeToLiveSpecification;
  return ttl?.Enabled === false ? undefined : ttl?.AttributeName;
}
