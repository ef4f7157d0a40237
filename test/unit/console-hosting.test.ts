import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { publishConsole } from '#shared/ports/site.ts';
import { contentSecurityPolicy, REWRITE_CODE } from '../../console/hosting.ts';

const s3 = mockClient(S3Client);
const body = (text: string) => ({ transformToString: async () => text }) as never;
const build = {
  '/index.html': { contentType: 'text/html; charset=utf-8', body: Buffer.from('<html></html>').toString('base64') },
  '/assets/app.js': { contentType: 'text/javascript; charset=utf-8', body: Buffer.from('x()').toString('base64') },
};
const publication = {
  source: { bucket: 'cdk-assets', key: 'abc.json' },
  bucket: 'console-bucket',
  config: { apiUrl: 'https://api.example', issuer: 'https://idp.example', clientId: 'elevate-console' },
};

describe('publishConsole', () => {
  beforeEach(() => s3.reset());

  it('copies each file of the build with its content type, then config.json, and nothing else', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(build)) });
    s3.on(PutObjectCommand).resolves({});

    // Act
    const written = await publishConsole(new S3Client({ region: 'eu-west-1' }), publication);

    // Assess
    expect(written).toEqual(['assets/app.js', 'index.html', 'config.json']);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'cdk-assets', Key: 'abc.json' });
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
      {
        Bucket: 'console-bucket',
        Key: 'assets/app.js',
        Body: Buffer.from('x()'),
        ContentType: 'text/javascript; charset=utf-8',
        CacheControl: 'no-cache',
      },
      {
        Bucket: 'console-bucket',
        Key: 'index.html',
        Body: Buffer.from('<html></html>'),
        ContentType: 'text/html; charset=utf-8',
        CacheControl: 'no-cache',
      },
      {
        Bucket: 'console-bucket',
        Key: 'config.json',
        Body: JSON.stringify(publication.config),
        ContentType: 'application/json',
        CacheControl: 'no-store',
      },
    ]);
  });

  it('refuses a build that is not the console (a path outside the pattern, no index.html) and writes nothing', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});
    const bad = [{ '/../x': build['/index.html'] }, { '/assets/app.js': build['/assets/app.js'] }];

    for (const files of bad) {
      s3.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(files)) });

      // Act / Assess
      await expect(publishConsole(new S3Client({ region: 'eu-west-1' }), publication)).rejects.toThrow();
    }
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });
});

describe('the deployed console', () => {
  // The CloudFront function as CloudFront runs it: `handler(event)` over the viewer request.
  const handler = new Function(`${REWRITE_CODE}; return handler;`)() as (e: { request: { uri: string } }) => {
    uri: string;
  };
  const uriFor = (uri: string) => handler({ request: { uri } }).uri;

  it('answers index.html for the console paths and leaves every other path alone', () => {
    // Assess
    for (const path of [
      '/',
      '/requests',
      '/requests/req_01ABC',
      '/approvals',
      '/reviews',
      '/admin/roles/db-admin',
      '/audit',
      '/callback',
    ]) {
      expect(uriFor(path), path).toBe('/index.html');
    }
    for (const path of ['/assets/app.js', '/config.json', '/requests/../config.json', '/admin/roles/A', '/x']) {
      expect(uriFor(path), path).toBe(path);
    }
  });

  it('allows connections only to its own origin and the sources given', () => {
    // Assess
    const csp = contentSecurityPolicy(['https://*.execute-api.eu-west-1.amazonaws.com', 'https://idp.example']);
    expect(csp).toContain("connect-src 'self' https://*.execute-api.eu-west-1.amazonaws.com https://idp.example;");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
  });
});
