/**
 * A table of its own for each test file, created from the synthesized template in the run's shared DynamoDB
 * Local (see dynamodb-global-setup.ts), with the environment the handlers and the store read pointed at it.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { ensureTable } from '#infra/local/table.ts';

export const TEST_REGION = 'us-east-1';

export interface TestTable {
  readonly tableName: string;
  readonly endpoint: string;
}

/** A unique table name (DynamoDB: 3..255 of [A-Za-z0-9_.-]). */
export function uniqueTableName(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** The endpoint of the run's shared DynamoDB Local (a project with the DynamoDB global setup only). */
export function dynamoEndpoint(): string {
  const endpoint = inject('dynamoEndpoint');
  if (!endpoint) throw new Error('no DynamoDB endpoint: this project has no test/support/dynamodb-global-setup.ts');
  return endpoint;
}

/** A DynamoDB client for the shared DynamoDB Local. */
export function testDynamoClient(endpoint = dynamoEndpoint()): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * Create a uniquely named table from `tableCreateInput(synthTemplate({ bundling: false }), name)` (the template
 * is synthesized once per worker) plus its TTL, and set TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION and
 * dummy credentials in process.env for this file.
 *
 * Without the template's stream unless `stream: true` (a file that reads it with a stream poller): in the run's
 * one DynamoDB Local, every write to a table with a stream slows down with the stream records of all tables written
 * so far (`ensureTable`), so the files that never read theirs would slow down every later file's writes.
 */
export async function createTestTable(opts: { stream?: boolean } = {}): Promise<TestTable> {
  const endpoint = dynamoEndpoint();
  const tableName = uniqueTableName();
  const client = testDynamoClient(endpoint);
  try {
    await ensureTable(client, tableName, { stream: opts.stream ?? false });
  } finally {
    client.destroy();
  }
  process.env.TABLE_NAME = tableName;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  process.env.AWS_REGION = TEST_REGION;
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  return { tableName, endpoint };
}
