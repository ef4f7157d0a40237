import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE } from '#shared/store/table.ts';
import { createTestTable, type TestTable, testDynamoClient } from '#test/support/table.ts';

describe('createTestTable', () => {
  let table: TestTable;
  const client = testDynamoClient();

  beforeAll(async () => {
    table = await createTestTable();
  });
  afterAll(() => client.destroy());

  it('creates a uniquely named table from the synthesized template, with its GSIs', async () => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table.tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    const indexes = (Table?.GlobalSecondaryIndexes ?? [])
      .map((index) => ({
        name: index.IndexName,
        keys: index.KeySchema?.map((k) => k.AttributeName),
        projection: index.Projection?.ProjectionType,
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expect(indexes).toEqual(
      TABLE.globalSecondaryIndexes.map((index) => ({
        name: index.indexName,
        keys: [index.partitionKey, index.sortKey],
        projection: 'ALL',
      })),
    );
  });

  it("enables TTL on the template's attribute", async () => {
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: table.tableName }));
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: TABLE.timeToLiveAttribute });
  });

  it('points the environment at the table', async () => {
    expect(process.env.TABLE_NAME).toBe(table.tableName);
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(table.endpoint);
    const other = await createTestTable();
    expect(other.tableName).not.toBe(table.tableName);
    expect(other.endpoint).toBe(table.endpoint);
  });
});
