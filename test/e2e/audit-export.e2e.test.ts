/**
 * Audit exports over HTTP: on-demand in both formats, downloaded through the presigned URL and checked against
 * the manifest; the daily schedule on the manual clock; the auditor reads but changes nothing; a plain user gets
 * 403; the verifier passes on the real files and fails at the right place on altered ones.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { verifyExports } from '#shared/domain/audit-verify.ts';
import { api, settle, startTestServer } from '#test/support/local.ts';

let server: LocalServer;
const admin = () => api(server).as({ sub: 'admin', mfa: true });
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-03-10T09:00:00Z') });
  for (let i = 0; i < 5; i++) {
    const r = await admin().post('/v1/roles', { id: `export-role-${i}`, displayName: `Role ${i}`, privileged: false });
    expect(r.status).toBe(201);
  }
  // the auditor: an active elevate-auditor assignment
  const grant = await admin().post('/v1/requests', {
    action: 'adminAssign',
    principalId: 'auditor',
    roleId: 'elevate-auditor',
    assignmentType: 'active',
    justification: 'audit',
    schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
  });
  expect([200, 201], JSON.stringify(grant.body)).toContain(grant.status);
  server.manualClock?.advance(60_000);
});
afterAll(() => server?.stop());

interface Export {
  id: string;
  status: string;
  recordCount: number;
  sha256: string;
  objectKey: string;
  manifestKey: string;
  previousManifestSha256: string | null;
  downloadUrl: string;
}

async function exportOf(format: 'jsonl' | 'csv', who = admin()) {
  const created = await who.post<Export>('/v1/audit-exports', {
    from: '2026-03-10T00:00:00Z',
    to: server.clock.now().toISOString(),
    format,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  expect(created.body.status).toBe('Pending');
  await settle(server);
  const got = await who.get<Export>(`/v1/audit-exports/${created.body.id}`);
  expect(got.status).toBe(200);
  expect(got.body.status, JSON.stringify(got.body)).toBe('Completed');
  return got.body;
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

const manifestUrl = (e: Export) => e.downloadUrl.replace(/\/[^/?]+\.(jsonl|csv)\.gz\?/, `/${e.id}.manifest.json?`);

describe('audit exports', () => {
  const files: { name: string; bytes: Buffer }[] = [];

  it('exports JSON Lines and CSV; the download matches the manifest; manifests chain', async () => {
    const jsonl = await exportOf('jsonl');
    const object = await download(jsonl.downloadUrl);
    expect(sha(object)).toBe(jsonl.sha256);
    const lines = gunzipSync(object).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(jsonl.recordCount);
    expect(jsonl.recordCount).toBeGreaterThanOrEqual(6);
    expect(jsonl.objectKey).toMatch(/^audit\/2026\/03\/10\/exp_[0-9A-Z]{26}\.jsonl\.gz$/);
    expect(jsonl.downloadUrl).toContain('X-Amz-Expires=900');

    server.manualClock?.advance(60_000);
    const csv = await exportOf('csv');
    const csvObject = await download(csv.downloadUrl);
    expect(sha(csvObject)).toBe(csv.sha256);
    const rows = gunzipSync(csvObject).toString('utf8').trimEnd().split('\n');
    expect(rows).toHaveLength(csv.recordCount + 1);
    // the second export includes the first one's export.created/completed events
    expect(csv.recordCount).toBeGreaterThan(jsonl.recordCount);

    // manifests are not presigned by the API; fetch them through the same (unsigned-checking) local S3
    const m1 = await download(manifestUrl(jsonl));
    const m2 = await download(manifestUrl(csv));
    expect(csv.previousManifestSha256).toBe(sha(m1));
    files.push(
      { name: `${jsonl.id}.jsonl.gz`, bytes: object },
      { name: `${jsonl.id}.manifest.json`, bytes: m1 },
      { name: `${csv.id}.csv.gz`, bytes: csvObject },
      { name: `${csv.id}.manifest.json`, bytes: m2 },
    );
    const report = verifyExports(files);
    expect(report.problems).toEqual([]);
  });

  it('the verifier finds an altered event and an altered manifest, and says where', () => {
    const [object, m1, csvObject, m2] = files as [
      (typeof files)[0],
      (typeof files)[0],
      (typeof files)[0],
      (typeof files)[0],
    ];
    const lines = gunzipSync(object.bytes).toString('utf8').split('\n');
    const third = JSON.parse(lines[2] as string);
    third.details = { ...third.details, tampered: true };
    lines[2] = JSON.stringify(third);
    const altered = { name: object.name, bytes: gzipSync(lines.join('\n')) };
    const manifest = JSON.parse(m1.bytes.toString('utf8'));
    manifest.recordCount += 0;
    manifest.to = '2026-03-11T00:00:00.000Z';
    const alteredManifest = { name: m1.name, bytes: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) };
    const report = verifyExports([altered, alteredManifest, csvObject, m2]);
    expect(report.ok).toBe(false);
    expect(
      report.problems.some((p) => p.startsWith(`${object.name}:3: event ${third.id}`) && p.includes('hash differs')),
    ).toBe(true);
    expect(report.problems.some((p) => p.startsWith(`${object.name} (manifest`) && p.includes('SHA-256'))).toBe(true);
    expect(report.problems.some((p) => p.startsWith(`${m1.name}: SHA-256 is`) && p.includes(m2.name))).toBe(true);
  });

  it('an auditor exports and reads, but changes nothing; a plain user gets 403', async () => {
    const auditor = api(server).as({ sub: 'auditor', mfa: true });
    const done = await exportOf('jsonl', auditor);
    expect(done.recordCount).toBeGreaterThan(0);
    expect((await auditor.get('/v1/audit-exports')).status).toBe(200);
    expect((await auditor.get('/v1/audit-events')).status).toBe(200);
    expect((await auditor.post('/v1/roles', { id: 'nope', displayName: 'No', privileged: false })).status).toBe(403);
    const user = api(server).as({ sub: 'someone', mfa: true });
    expect(
      (await user.post('/v1/audit-exports', { from: '2026-03-10T00:00:00Z', to: '2026-03-10T09:00:00Z' })).status,
    ).toBe(403);
    expect((await user.get('/v1/audit-exports')).status).toBe(403);
    expect((await user.get(`/v1/audit-exports/${done.id}`)).status).toBe(403);
  });

  it('the daily schedule exports the previous UTC day at 00:15 on the manual clock', async () => {
    const before = (await admin().get<{ items: Export[] }>('/v1/audit-exports?limit=200')).body.items.length;
    (server.manualClock as NonNullable<LocalServer['manualClock']>).set(new Date('2026-03-11T00:16:00Z'));
    await settle(server);
    const list = (
      await admin().get<{ items: (Export & { from: string; to: string })[] }>('/v1/audit-exports?limit=200')
    ).body.items;
    expect(list.length).toBe(before + 1);
    const daily = list.find((e) => e.from === '2026-03-10T00:00:00.000Z' && e.to === '2026-03-11T00:00:00.000Z');
    expect(daily?.status).toBe('Completed');
    const object = await download((daily as Export).downloadUrl);
    expect(sha(object)).toBe(daily?.sha256);
    const manifest = await download(manifestUrl(daily as Export));
    const report = verifyExports([
      { name: 'daily.jsonl.gz', bytes: object },
      { name: 'daily.manifest.json', bytes: manifest },
    ]);
    expect(report.problems).toEqual([]);
    // a whole day: every chain starts at seq 1
    for (const c of JSON.parse(manifest.toString()).chains) expect(c.firstSeq).toBe(1);
    // running it again the same day does nothing
    const again = await fetch(`${server.url}/_local/schedules/audit-export/run`, { method: 'POST' });
    expect(((await again.json()) as { result: { exportId: string | null } }).result.exportId).toBeNull();
  });
});
