import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';

/**
 * Publishes the web console into its bucket at deploy time: the built files (one JSON document, the stack's asset,
 * console/build.ts `ConsoleBundle`) and `config.json`, which names the API and the sign-in for this deployment.
 * Every object is written with its content type and `Cache-Control: no-cache` (CloudFront and browsers revalidate,
 * so a deploy shows at once; the files are small), `config.json` with `no-store`.
 */
export interface ConsolePublication {
  /** Where the build is (the CDK asset): bucket and key. */
  readonly source: { bucket: string; key: string };
  /** The console's bucket. */
  readonly bucket: string;
  /** `config.json`: the API's URL, the issuer, the client id, the scopes, the endpoints. */
  readonly config: Readonly<Record<string, string>>;
}

const ConsoleBundle = z.record(
  z.string().regex(/^\/[A-Za-z0-9/._-]{1,200}$/),
  z.strictObject({ contentType: z.string().min(1).max(200), body: z.string() }),
);

/** The keys written, in order (config.json last: a half-published console keeps the previous config). */
export async function publishConsole(s3: S3Client, p: ConsolePublication): Promise<string[]> {
  const { GetObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const out = await s3.send(new GetObjectCommand({ Bucket: p.source.bucket, Key: p.source.key }));
  const text = await (out.Body as { transformToString(): Promise<string> } | undefined)?.transformToString();
  if (text === undefined) throw new Error(`the console build s3://${p.source.bucket}/${p.source.key} is empty`);
  const files = ConsoleBundle.parse(JSON.parse(text));
  if (!files['/index.html']) throw new Error('the console build has no /index.html');
  const written: string[] = [];
  for (const [path, file] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const key = path.slice(1);
    await s3.send(
      new PutObjectCommand({
        Bucket: p.bucket,
        Key: key,
        Body: Buffer.from(file.body, 'base64'),
        ContentType: file.contentType,
        CacheControl: 'no-cache',
      }),
    );
    written.push(key);
  }
  await s3.send(
    new PutObjectCommand({
      Bucket: p.bucket,
      Key: 'config.json',
      Body: JSON.stringify(p.config),
      ContentType: 'application/json',
      CacheControl: 'no-store',
    }),
  );
  written.push('config.json');
  return written;
}
