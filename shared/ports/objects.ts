import type { Readable } from 'node:stream';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { ListObjectsV2CommandOutput, S3Client } from '@aws-sdk/client-s3';
import { SDK_MAX_ATTEMPTS } from '../retry.ts';
import { type LazyClient, lazyClient } from './lazy.ts';

/**
 * The object store port (S3) of the audit exports, and the port that starts an export job (an asynchronous
 * Lambda invoke). Locally AWS_ENDPOINT_URL_S3 points at the S3 stand-in (path-style addressing) and
 * AWS_ENDPOINT_URL_LAMBDA at the local runtime, which runs the job in-process.
 */
export interface ObjectStore {
  /** Streams `body` to `key` as a multipart upload (5 MiB parts, two in flight): memory stays flat. */
  upload(key: string, body: Readable, contentType: string): Promise<void>;
  /** Creates `key`, only if it does not exist yet (a conditional create): false when it was already there. */
  create(key: string, body: string, contentType: string): Promise<boolean>;
  /** A presigned GET, valid `seconds`. */
  presignGet(key: string, seconds: number): Promise<string>;
}

/**
 * Every write names its checksum. The audit bucket has Object Lock with a default retention, and S3 refuses a
 * PutObject or UploadPart without a checksum header (Content-MD5 or x-amz-checksum-*) to such a bucket; the SDK
 * sends one by default only since early 2025 (`requestChecksumCalculation`), so nothing here relies on that.
 */
export const CHECKSUM_ALGORITHM = 'SHA256' as const;

/** Path-style only against a stand-in (its host has no bucket sub-domains). */
const s3Options = (endpoint = process.env.AWS_ENDPOINT_URL_S3) => ({
  forcePathStyle: Boolean(endpoint),
  maxAttempts: SDK_MAX_ATTEMPTS,
  ...(endpoint && { endpoint }),
});

/** A client for the scripts (the verifier), configured as the adapter's. */
export async function s3Client(): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client(s3Options());
}

/** The S3 SDK, its multipart upload and its presigner: loaded on first use (see lazy.ts). */
const loadS3 = async () => {
  const [s3, storage, presigner] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/lib-storage'),
    import('@aws-sdk/s3-request-presigner'),
  ]);
  return { ...s3, Upload: storage.Upload, getSignedUrl: presigner.getSignedUrl };
};

export class S3ObjectStore implements ObjectStore {
  readonly #s3: LazyClient<Awaited<ReturnType<typeof loadS3>>, S3Client>;

  /** The endpoint is read now (AWS_ENDPOINT_URL_S3), the SDK on the first call; `client` replaces the default one. */
  constructor(
    readonly bucket: string,
    client?: S3Client,
  ) {
    const options = s3Options();
    this.#s3 = lazyClient(loadS3, (sdk) => client ?? new sdk.S3Client(options));
  }

  async upload(key: string, body: Readable, contentType: string): Promise<void> {
    const { sdk, client } = await this.#s3.get();
    const upload = new sdk.Upload({
      client,
      // ChecksumAlgorithm goes to CreateMultipartUpload and to every UploadPart (and to the PutObject of a
      // single-part upload).
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ChecksumAlgorithm: CHECKSUM_ALGORITHM,
      },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async create(key: string, body: string, contentType: string): Promise<boolean> {
    const { sdk, client } = await this.#s3.get();
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ChecksumAlgorithm: CHECKSUM_ALGORITHM,
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || (error as Error).name === 'PreconditionFailed') return false;
      throw error;
    }
  }

  async presignGet(key: string, seconds: number): Promise<string> {
    const { sdk, client } = await this.#s3.get();
    return sdk.getSignedUrl(client, new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: seconds,
    });
  }
}

/** Every key under a prefix (the verifier). */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const found: string[] = [];
  let token: string | undefined;
  do {
    const out: ListObjectsV2CommandOutput = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) if (o.Key) found.push(o.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return found;
}

export async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

export interface ExportJobs {
  /** Starts the export job for a Pending export (fire and forget: the job records its own outcome). */
  start(exportId: string): Promise<void>;
}

export class LambdaExportJobs implements ExportJobs {
  /** The SDK is loaded on first use (see lazy.ts). */
  readonly #lambda = lazyClient(
    () => import('@aws-sdk/client-lambda'),
    (m): LambdaClient => new m.LambdaClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
  );
  constructor(readonly functionName: string) {}

  async start(exportId: string): Promise<void> {
    const { sdk, client } = await this.#lambda.get();
    await client.send(
      new sdk.InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ exportId })),
      }),
    );
  }
}
