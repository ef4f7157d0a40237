import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { ALERT_SAMPLE, defaultAlertSettings, type Finding } from '#shared/domain/alerts.ts';
import { keys } from '#shared/store/records.ts';
import { raise } from '#shared/usecases/alerts.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable, type TestTable } from '#test/support/table.ts';

/**
 * Alerts in a large organisation (issue 12, item 3): DynamoDB's 400 KB item limit, which DynamoDB Local enforces
 * as AWS does (checked first, so the test below cannot pass by a lenient emulator), against an alert with more
 * than 3,000 affected assignments.
 */
const clock = new ManualClock(new Date('2026-11-26T10:00:00Z'));
let table: TestTable;

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  table = await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
}, 120_000);

const staleFinding = (n: number): Finding => ({
  type: 'staleEligibility',
  subject: 'stale',
  affected: Array.from({ length: n }, (_, i) => ({
    assignmentId: `asg_01M8V2K8S16CMXMEDW7HD${String(i).padStart(5, '0')}`,
    principalId: `user-${i}@example.com`,
    roleId: 'db-admin',
    scope: '/accounts/123456789012',
    lastActivatedAt: null,
    eligibleSince: '2026-01-01T00:00:00.000Z',
  })),
  details: { staleAfter: 'P90D' },
});

describe('alert items and the 400 KB limit', () => {
  it('DynamoDB Local refuses an item over 400 KB, as AWS does', async () => {
    const deps = depsFromEnv();
    const doc = (deps.store as unknown as { doc: { send: (c: unknown) => Promise<unknown> } }).doc;
    await expect(
      doc.send(
        new PutCommand({ TableName: table.tableName, Item: { pk: 'BIG', sk: 'BIG', blob: 'x'.repeat(410_000) } }),
      ),
    ).rejects.toThrow(/Item size has exceeded the maximum allowed size/);
  });

  it('raises an alert with 3,500 affected assignments as a bounded sample and a count', async () => {
    // Prepare: 3,500 affected items are ~600 KB as JSON
    const finding = staleFinding(3_500);
    expect(JSON.stringify(finding.affected).length).toBeGreaterThan(400_000);

    // Act
    const outcome = await raise(depsFromEnv(), finding, defaultAlertSettings());

    // Assess
    expect(outcome).toBe('raised');
    const alerts = await call('GET', '/v1/alerts', { as: 'admin' });
    const alert = alerts.body.items.find((a: { type: string }) => a.type === 'staleEligibility');
    expect(alert.affectedCount).toBe(3_500);
    expect(alert.affected).toHaveLength(ALERT_SAMPLE);
    expect(alert.affected[0]).toEqual(finding.affected[0]);
    const item = await depsFromEnv().store.get(keys.alert(alert.id));
    expect(JSON.stringify(item).length).toBeLessThan(100_000);
  });
});
