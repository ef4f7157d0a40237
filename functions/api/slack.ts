import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { depsFromEnv } from '#shared/deps.ts';
import { internalError, problem } from '#shared/http/problem.ts';
import { errorFields, withRequestLog } from '#shared/log.ts';
import { invokeLater } from '#shared/ports/invoke-later.ts';
import { handleSlackInteraction, runSlackSubmission, type SlackSubmission } from '#shared/usecases/slack.ts';

/** The event of this function's asynchronous run: a submission it took and answered (only it invokes itself so). */
interface SubmissionEvent {
  slackSubmission: SlackSubmission;
}

const isSubmission = (event: unknown): event is SubmissionEvent =>
  typeof event === 'object' && event !== null && 'slackSubmission' in event && !('requestContext' in event);

/**
 * POST /v1/integrations/slack/interactions (no JWT authorizer: Slack's request signature instead, checked by the
 * use case over the raw body). Answers Slack's JSON, or nothing, within Slack's 3 s; an unexpected failure is a 500
 * Slack retries. A modal submission's decision runs after the answer: this same function invoked asynchronously
 * (InvocationType Event, lambda:InvokeFunction on itself only) with the submission, as `{ slackSubmission }`; a
 * failed run is retried by Lambda (twice), and decides once whatever the deliveries (runSlackSubmission).
 */
export const handler = async (
  event: APIGatewayProxyEventV2 | SubmissionEvent,
  lambda?: Context,
): Promise<APIGatewayProxyStructuredResultV2 | undefined> => {
  if (isSubmission(event)) {
    return withRequestLog(lambda?.awsRequestId ?? randomUUID(), async (log) => {
      await runSlackSubmission(depsFromEnv(), event.slackSubmission, log);
      return undefined;
    });
  }
  return withRequestLog(event.requestContext?.requestId ?? lambda?.awsRequestId ?? randomUUID(), async (log) => {
    try {
      const body = event.body ?? '';
      const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
      const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      const self = lambda?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME;
      const later = async (slackSubmission: SlackSubmission) => {
        if (!self) throw new Error('the function does not know its own name: no asynchronous run');
        await invokeLater(self, { slackSubmission } satisfies SubmissionEvent);
      };
      const answer = await handleSlackInteraction(depsFromEnv(), { headers, rawBody }, later, log);
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
};
