/**
 * The local S3: `s3rver` (path-style) on a free port of 127.0.0.1, its files under the data folder (or a
 * temporary folder for ':memory:', removed at stop), with the audit bucket created and the runtime's credentials
 * (AWS_ACCESS_KEY_ID/SECRET) known to it, so the SDK's requests and the presigned URLs work from this machine.
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

export interface LocalS3 {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startLocalS3(dataDir: string | ':memory:', buckets: string[] = [LOCAL_AUDIT_BUCKET]) {
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
  const address = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    async stop() {
      await server.close();
      if (temporary) rmSync(directory, { recursive: true, force: true });
    },
  } satisfies LocalS3;
}
