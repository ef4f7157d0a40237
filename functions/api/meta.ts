import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import document from '../../docs/openapi.json' with { type: 'json' };

const body = JSON.stringify(document);

/** GET /v1/openapi.json: the contract as generated from the zod schemas (docs/openapi.json, kept in step by a test). */
export const handler = async (): Promise<APIGatewayProxyStructuredResultV2> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
  body,
});
