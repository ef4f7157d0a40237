/**
 * The audit export job against DynamoDB Local and the local S3 (s3rver with the Object Lock and conditional-write
 * rules of infra/local/s3.ts): runs that overlap on one export (a second delivery of the async invoke, a restart by
 * reconcile), a run that dies holding its lease, a range longer than one run's time, and the checksum every write to
 * an Object Lock bucket must carry. After each, the bucket is verified as `npm run audit:verify` does.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AUDIT_BUCKET, type LocalS3, startLocalS3 } from '#infra/local/s3.ts';
import { ManualClock, useClock } from '#shared/clock.ts';
import type { Deps } from '#shared/deps.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { verifyExports } from '#shared/domain/audit-verify.ts';
import { getBytes, listKeys, S3ObjectStore } from '#shared/ports/objects.ts';
import { keys, ops, stored } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { auditEvent } from '#shared/usecases/context.ts';
import { newExport, restartStaleExports, runAuditExport, useExportPorts } from '#shared/usecases/exports.ts';
import { createTestTable } from '#test/support/table.ts';

const clock = new ManualClock(new Date('2026-05-02T12:00:00Z'));
let s3: LocalS3;
let deps: Deps;
/**
 * A client that sends no checksum unless a command names one (`WHEN_REQUIRED`), as the SDK did before 2025 and as
 * a Lambda runtime's SDK may: what the export writes must carry its checksum on its own.
 */
let client: S3Client;
let objects: S3ObjectStore;
const started: string[] = [];

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  await createTestTable();
  s3 = await startLocalS3(':memory:');
  client = new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  objects = new S3ObjectStore(LOCAL_AUDIT_BUCKET, client);
  useExportPorts({ objects, jobs: { start: async (id) => void started.push(id) } });
  deps = depsFromEnv();
  await bootstrap(deps, ['admin']);
  // 600 events over two UTC days (May 1st and 2nd), through the store: linked into their day's shard chains.
  for (let i = 0; i < 600; i++) {
    const at = new Date(Date.parse('2026-05-01T00:00:00Z') + i * 240_000);
    await deps.store.transact([
      ops.audit(auditEvent(at, SYSTEM_ACTOR, 'role.updated', { roleId: `r-${i % 7}` }, { i })),
    ]);
  }
}, 300_000); // 600 sequential transactions: over two minutes at load 20

afterAll(async () => {
  useExportPorts(undefined);
  client?.destroy();
  await s3?.stop();
});

async function createExport(from: string, to: string): Promise<string> {
  const record = newExport(
    `exp_${Math.random().toString(36).slice(2)}`,
    new Date(from).toISOString(),
    new Date(to).toISOString(),
    'jsonl',
    clock.now(),
    'admin',
  );
  await deps.store.transact([ops.createExport(record)]);
  return record.id;
}

const read = async (id: string) => stored.auditExport.fromItem((await deps.store.get(keys.auditExport(id))) ?? {});

/** Everything in the bucket, verified as `npm run audit:verify -- s3://elevate-audit/audit/` does. */
async function verifyBucket() {
  const files = [];
  for (const key of await listKeys(client, LOCAL_AUDIT_BUCKET, 'audit/')) {
    files.push({ name: key, bytes: await getBytes(client, LOCAL_AUDIT_BUCKET, key) });
  }
  return { files, report: verifyExports(files) };
}

const deferred = () => {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe('audit export runs', () => {
  it('two runs of one export at once: one claims it, the other leaves it alone; the bucket verifies', async () => {
    // Prepare: run A is held just before its upload until run B is done (a restart while A still streams).
    const id = await createExport('2026-05-01T00:00:00Z', '2026-05-01T12:00:00Z');
    const gate = deferred();
    const held = {
      upload: async (...args: Parameters<S3ObjectStore['upload']>) => {
        await gate.promise;
        return objects.upload(...args);
      },
      create: objects.create.bind(objects),
      presignGet: objects.presignGet.bind(objects),
    };

    // Act
    const a = runAuditExport(deps, id, { objects: held });
    const b = runAuditExport(deps, id, { objects });
    const settledB = await Promise.allSettled([b]);
    gate.resolve();
    const settled = [...(await Promise.allSettled([a])), ...settledB];

    // Assess
    const done = await read(id);
    expect(done.status).toBe('Completed');
    expect(done.recordCount).toBe(180);
    const { files, report } = await verifyBucket();
    expect(report.problems).toEqual([]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
    const manifest = JSON.parse(
      (files.find((f) => f.name === done.manifestKey)?.bytes ?? Buffer.from('{}')).toString('utf8'),
    );
    expect(manifest.previousManifestKey).not.toBe(done.manifestKey);
    // a run on a Completed export does nothing
    expect((await runAuditExport(deps, id, { objects })).version).toBe(done.version);
  });

  it('a run whose lease is live is never restarted; one past its lease is, and completes', async () => {
    // Prepare: a run claimed the export and died (its lease outlives the function timeout).
    const id = await createExport('2026-05-01T12:00:00Z', '2026-05-02T00:00:00Z');
    const dead = deferred();
    const dying = runAuditExport(deps, id, {
      objects: {
        ...objects,
        upload: async () => {
          dead.resolve();
          await new Promise(() => {}); // never returns: the Lambda timed out
        },
        create: objects.create.bind(objects),
        presignGet: objects.presignGet.bind(objects),
      },
    });
    void dying;
    await dead.promise;
    expect((await read(id)).status).toBe('Running');
    started.length = 0;

    // Act + Assess: 15 minutes on (the function timeout), the lease still holds
    clock.advance(15 * 60_000);
    await restartStaleExports(deps);
    expect(started).not.toContain(id);
    expect((await runAuditExport(deps, id, { objects })).status).toBe('Running');

    // past the lease, reconcile starts it again and the new run claims and completes it
    clock.advance(2 * 60_000);
    await restartStaleExports(deps);
    expect(started).toContain(id);
    const done = await runAuditExport(deps, id, { objects });
    expect(done.status).toBe('Completed');
    expect(done.recordCount).toBe(180);
    expect((await verifyBucket()).report.problems).toEqual([]);
  });

  it('a range longer than one run: completed up to where time ran out, continued by a new export', async () => {
    // Prepare: the run's time is "low" once it has streamed 250 events.
    const id = await createExport('2026-05-01T00:00:00Z', '2026-05-03T00:00:00Z');
    let seen = 0;
    const timeLeft = () => (++seen > 250 ? 30_000 : 600_000);
    started.length = 0;

    // Act
    const first = await runAuditExport(deps, id, { objects, timeLeft });
    const rest = started.at(-1) as string;
    const second = await runAuditExport(deps, rest, { objects });

    // Assess
    expect(first.status).toBe('Completed');
    expect(first.continuedBy).toBe(rest);
    expect(first.to < '2026-05-03T00:00:00.000Z').toBe(true);
    expect(second.from).toBe(first.to);
    expect(second.to).toBe('2026-05-03T00:00:00.000Z');
    expect(second.status).toBe('Completed');
    expect((first.recordCount ?? 0) + (second.recordCount ?? 0)).toBeGreaterThanOrEqual(600);
    expect(first.recordCount).toBeLessThan(300);
    const { report } = await verifyBucket();
    expect(report.problems).toEqual([]);
  });
});

describe('the local S3 enforces the Object Lock checksum rule', () => {
  it('refuses a PutObject without a checksum header to the Object Lock bucket', async () => {
    const put = client.send(
      new PutObjectCommand({ Bucket: LOCAL_AUDIT_BUCKET, Key: 'audit/plain.txt', Body: 'no checksum' }),
    );
    await expect(put).rejects.toMatchObject({ name: 'InvalidRequest', $metadata: { httpStatusCode: 400 } });
    await client.send(
      new PutObjectCommand({
        Bucket: LOCAL_AUDIT_BUCKET,
        Key: 'audit/checked.txt',
        Body: 'with checksum',
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  });

  it('the export store names its checksum on a put and on every part of a multipart upload', async () => {
    const { Readable } = await import('node:stream');
    const big = Buffer.alloc(11 * 1024 * 1024, 7); // three parts
    await objects.upload('audit/big.bin', Readable.from([big]), 'application/octet-stream');
    expect((await getBytes(client, LOCAL_AUDIT_BUCKET, 'audit/big.bin')).length).toBe(big.length);
    expect(await objects.create('audit/small.json', '{}', 'application/json')).toBe(true);
    // a conditional create never replaces
    expect(await objects.create('audit/small.json', '{"x":1}', 'application/json')).toBe(false);
  });
});
