import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_ACCESS } from '#infra/constructs/api.ts';
import { ROUTES } from '#shared/api/routes.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { keys } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

beforeAll(async () => {
  await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
});

const claims = (sub: string) => ({ sub, amr: ['pwd', 'mfa'], email: `${sub}@example.com`, name: `User ${sub}` });

describe('read-only functions (their roles hold no write action)', () => {
  it('writes nothing for any GET, not even the caller profile', async () => {
    // Prepare: every GET route of a function the stack gives read-only table access
    const reads = ROUTES.filter((r) => TABLE_ACCESS[r.fn] === 'read');
    expect(reads.map((r) => r.fn).sort()).toEqual(['access', 'assignments', 'assignments', 'assignments', 'audit']);
    const store = depsFromEnv().store;
    const before = store.stats.writes;

    // Act
    for (const [i, as] of [claims('reader-1'), { ...claims('admin'), email: 'admin-new@example.com' }].entries()) {
      await call('GET', '/v1/assignments', { as });
      await call('GET', '/v1/me/assignments', { as });
      await call('GET', '/v1/assignments/asg_missing', { as });
      await call('GET', `/v1/access?principalId=p${i}&roleId=elevate-admin&scope=/`, { as });
      await call('GET', '/v1/audit-events', { as });
    }

    // Assess
    expect(store.stats.writes).toBe(before);
    expect(await store.get(keys.principal({ principalType: 'user', principalId: 'reader-1' }))).toBeUndefined();
  });

  it('records the caller profile with a call that may change something', async () => {
    // Act
    await call('POST', '/v1/roles', { as: claims('admin'), body: { id: 'r1', displayName: 'R1', privileged: false } });

    // Assess
    expect(
      await depsFromEnv().store.get(keys.principal({ principalType: 'user', principalId: 'admin' })),
    ).toMatchObject({ email: 'admin@example.com' });
  });
});
