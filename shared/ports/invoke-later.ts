import type { LambdaClient } from '@aws-sdk/client-lambda';
import { SDK_MAX_ATTEMPTS } from '../retry.ts';
import { lazyClient } from './lazy.ts';

/** The SDK is loaded on first use (see lazy.ts); one client per process. */
const lambda = lazyClient(
  () => import('@aws-sdk/client-lambda'),
  (m): LambdaClient => new m.LambdaClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
);

/**
 * Invokes a function asynchronously (InvocationType `Event`: Lambda queues the event and answers 202 at once; it
 * runs the function after, retries a failed run twice, and may deliver an event more than once, so the work must
 * be idempotent). Locally AWS_ENDPOINT_URL_LAMBDA points at the local runtime, which runs it after its answer.
 */
export async function invokeLater(functionName: string, payload: unknown): Promise<void> {
  const { sdk, client } = await lambda.get();
  await client.send(
    new sdk.InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'Event',
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );
}
