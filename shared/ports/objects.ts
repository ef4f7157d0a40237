import type { Readable } from 'node:stream';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/**
 * The object store port (S3) of the audit exports, and the port that starts an export job (an asynchronous
 * Lambda invoke). Locally AWS_ENDPOINT_URL_S3 points at the S3 stand-in (path-style addressing) and
 * AWS_ENDPOINT_URL_LAMBDA at the local runtime, which runs the job in-process.
 */
export interface ObjectStore {
  /** Streams `body` to `key` as a multipart upload (5 MiB parts, two in flight): memory stays flat. */
  upload(key: string, body: Readable, contentType: string): Promise<void>;
  /** Creates `key`, only if it does not exist yet (conditional create): else ObjectExists. */
  create(key: string, body: string, contentType: string): Promise<void>;
  /** A presigned GET, valid `seconds`. */
  presignGet(key: string, seconds: number): Promise<string>;
}

/** The object is already there: a conditional create (If-None-Match: *) found it. */
export class ObjectExists extends Error {}

/**
 * Every write names its checksum. The audit bucket has Object Lock with a default retention, and S3 refuses a
 * PutObject or UploadPart without a checksum header (Content-MD5 or x-amz-checksum-*) to such a bucket; the SDK
 * sends one by default only since early 2025 (`requestChecksumCalculation`), so nothing here relies on that.
 */
export const CHECKSUM_ALGORITHM = 'SHA256' as const;

export function s3Client(): S3Client {
  // Path-style only against a stand-in (its host has no bucket sub-domains).
  return new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
}

export class S3ObjectStore implements ObjectStore {
  constructor(
    readonly bucket: string,
    readonly client: S3Client = s3Client(),
  ) {}

  async upload(key: string, body: Readable, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
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

  async create(key: string, body: string, contentType: string): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ChecksumAlgorithm: CHECKSUM_ALGORITHM,
          IfNoneMatch: '*',
        }),
      );
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || (error as Error).name === 'PreconditionFailed') {
        throw new ObjectExists(`s3://${this.bucket}/${key} already exists`);
      }
      throw error;
    }
  }

  presignGet(key: string, seconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: seconds,
    });
  }
}

/** Every key under a prefix (the verifier). */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
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
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

export interface ExportJobs {
  /** Starts the export job for a Pending export (fire and forget: the job records its own outcome). */
  start(exportId: string): Promise<void>;
}

export class LambdaExportJobs implements ExportJobs {
  readonly #client = new LambdaClient({});
  constructor(readonly functionName: string) {}

  async start(exportId: string): Promise<void> {
    await this.#client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ exportId })),
      }),
    );
  }
}
