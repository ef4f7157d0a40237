import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { depsFromEnv } from '#shared/deps.ts';
import { internalError, problem } from '#shared/http/problem.ts';
import { errorFields, withRequestLog } from '#shared/log.ts';
import { handleSlackInteraction } from '#shared/usecases/slack.ts';

/**
 * POST /v1/integrations/slack/interactions (no JWT authorizer: Slack's request signature instead, checked by the
 * use case over the raw body). Answers Slack's JSON, or nothing; an unexpected failure is a 500 Slack retries.
 */
export const handler = async (
  event: APIGatewayProxyEventV2,
  lambda?: Context,
): Promise<APIGatewayProxyStructuredResultV2> =>
  withRequestLog(event.requestContext?.requestId ?? lambda?.awsRequestId ?? randomUUID(), async (log) => {
    try {
      const body = event.body ?? '';
      const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
      const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      const answer = await handleSlackInteraction(depsFromEnv(), { headers, rawBody }, log);
      if ('refused' in answer) return problem(answer.refused);
      return answer.body === undefined
        ? { statusCode: answer.status, body: '' }
        : {
            statusCode: answer.status,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(answer.body),
          };
    } catch (error) {
      log('error', 'the Slack interaction failed', errorFields(error));
      return internalError(lambda?.awsRequestId ?? event.requestContext?.requestId ?? 'unknown');
    }
  });
