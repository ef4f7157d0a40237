/**
 * The local S3: `s3rver` (path-style) on a free port of 127.0.0.1, its files under the data folder (or a
 * temporary folder for ':memory:', removed at stop), with the audit bucket created and the runtime's credentials
 * (AWS_ACCESS_KEY_ID/SECRET) known to it, so the SDK's requests and the presigned URLs work from this machine.
 *
 * Two S3 rules s3rver lacks are enforced in front of it (see `s3Rules`):
 * - Object Lock: a bucket with a default retention (the audit bucket, as in AWS) refuses a PutObject or
 *   UploadPart that carries no checksum header (Content-MD5 or x-amz-checksum-*, or one announced as a trailer),
 *   with AWS's 400 InvalidRequest.
 * - Conditional writes: `If-None-Match: *` on a PutObject of an existing key answers 412 PreconditionFailed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** s3rver knows one key pair (S3RVER); the local runtime's credentials are added to its dummy account. */
function allowCredentials(accessKeyId: string, secretAccessKey: string): void {
  const account = createRequire(import.meta.url)('s3rver/lib/models/account.js') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  account.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
}

export const LOCAL_AUDIT_BUCKET = 'elevate-audit';

interface KoaLike {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}

const xmlError = (ctx: KoaLike, status: number, code: string, message: string) => {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
};

/** True when a write names a checksum S3 accepts for Object Lock: Content-MD5 or x-amz-checksum-* (or trailer). */
export function hasChecksumHeader(headers: KoaLike['headers']): boolean {
  if (headers['content-md5']) return true;
  if (Object.keys(headers).some((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-type')) return true;
  return String(headers['x-amz-trailer'] ?? '').startsWith('x-amz-checksum-');
}

/** The Koa middleware enforcing the rules above for the named Object Lock buckets. */
function s3Rules(lockedBuckets: ReadonlySet<string>, exists: (bucket: string, key: string) => Promise<boolean>) {
  return async (ctx: KoaLike, next: () => Promise<unknown>) => {
    if (ctx.method !== 'PUT' || ctx.headers['x-amz-copy-source']) return next();
    const [, bucket = '', ...rest] = ctx.path.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (!key) return next();
    const isPart = ctx.query.partNumber !== undefined && ctx.query.uploadId !== undefined;
    const isPutObject = !isPart && Object.keys(ctx.query).every((q) => q.startsWith('X-Amz-') || q === 'x-id');
    if ((isPart || isPutObject) && lockedBuckets.has(bucket) && !hasChecksumHeader(ctx.headers)) {
      return xmlError(
        ctx,
        400,
        'InvalidRequest',
        'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
      );
    }
    if (isPutObject && ctx.headers['if-none-match'] === '*' && (await exists(bucket, key))) {
      return xmlError(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    return next();
  };
}

export interface LocalS3 {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * @param buckets created at start
 * @param locked the buckets with Object Lock and a default retention (checksum-less writes refused)
 */
export async function startLocalS3(
  dataDir: string | ':memory:',
  buckets: string[] = [LOCAL_AUDIT_BUCKET],
  locked: string[] = [LOCAL_AUDIT_BUCKET],
) {
  const temporary = dataDir === ':memory:';
  const directory = temporary ? mkdtempSync(join(tmpdir(), 'elevate-s3-')) : dataDir;
  if (!temporary) mkdirSync(directory, { recursive: true });
  const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret } = process.env;
  if (id && secret) allowCredentials(id, secret);
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const internals = server as unknown as {
    middleware: unknown[];
    store: { existsObject(bucket: string, key: string): Promise<boolean> };
  };
  // Koa composes its middleware when the server starts: the rules go first, before s3rver's router.
  internals.middleware.unshift(s3Rules(new Set(locked), (b, k) => internals.store.existsObject(b, k)));
  const address = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    async stop() {
      await server.close();
      if (temporary) rmSync(directory, { recursive: true, force: true });
    },
  } satisfies LocalS3;
}
