/**
 * The cold-start floor: a Lambda handler that imports only the DynamoDB client and the document client
 * (what every Elevate function needs at the least), bundled by bench/cold.ts with the house esbuild
 * options. With a `key` in the event it makes one GetItem, the smallest real call; with `queries`, it sends them all
 * at once (a function's own minimal plan, replayed: the audit page's reads); without either, none.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

// Built at init, as the Elevate functions build theirs (once per container).
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event: { key?: Record<string, string>; queries?: QueryCommandInput[] }) => {
  const tableName = process.env.TABLE_NAME;
  if (event.queries) {
    const pages = await Promise.all(event.queries.map((q) => doc.send(new QueryCommand(q))));
    return { statusCode: 200, body: JSON.stringify({ found: pages.reduce((n, p) => n + (p.Items?.length ?? 0), 0) }) };
  }
  if (event.key && tableName) {
    const out = await doc.send(new GetCommand({ TableName: tableName, Key: event.key, ConsistentRead: true }));
    return { statusCode: 200, body: JSON.stringify({ found: out.Item !== undefined }) };
  }
  return { statusCode: 200, body: '{}' };
};
