import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { log, withRequestId } from '#shared/log.ts';
import { s3Client } from '#shared/ports/objects.ts';
import { publishConsole } from '#shared/ports/site.ts';

/**
 * The deploy-time custom resource that publishes the web console (infra/constructs/console-hosting.ts): on Create
 * and Update it copies the build (the stack's asset) into the console bucket and writes `config.json` from the
 * resource's properties. On Delete it does nothing: the bucket is retained with the last console in it.
 */
export const handler = withRequestId(async (event: CloudFormationCustomResourceEvent) => {
  if (event.RequestType !== 'Delete') {
    const props = event.ResourceProperties as unknown as {
      SourceBucket: string;
      SourceKey: string;
      Bucket: string;
      Config: Record<string, string>;
    };
    const written = await publishConsole(await s3Client(), {
      source: { bucket: props.SourceBucket, key: props.SourceKey },
      bucket: props.Bucket,
      config: props.Config,
    });
    log('info', 'console published', { bucket: props.Bucket, objects: written.length });
  }
  return { PhysicalResourceId: 'elevate-console' };
});
