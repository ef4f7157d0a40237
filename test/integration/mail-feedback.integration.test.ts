import { beforeAll, describe, expect, it } from 'vitest';
import { handler } from '#functions/mail/feedback.ts';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { PRINCIPAL_TAG, principalTag } from '#shared/domain/mail-feedback.ts';
import type { Mail } from '#shared/ports/mailer.ts';
import { keys } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { runEffects } from '#shared/usecases/effects.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

/**
 * Issue 12 item 7: SES's bounces and complaints (the configuration set's events) recorded against the address,
 * the mail effect skipping a suppressed address, an admin seeing why and clearing it.
 */
const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
const sent: Mail[] = [];
const alice = { principalType: 'user', principalId: 'alice' } as const;

function bounceEvent(address: string, opts: { bounceType?: string; feedbackId?: string } = {}) {
  return {
    version: '0',
    id: 'e',
    'detail-type': 'Email Bounced',
    source: 'aws.ses',
    account: '123456789012',
    time: '2026-12-01T10:00:01Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventType: 'Bounce',
      bounce: {
        feedbackId: opts.feedbackId ?? 'fb-1',
        bounceType: opts.bounceType ?? 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: [{ emailAddress: address, diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
        timestamp: '2026-12-01T10:00:00Z',
      },
      mail: {
        timestamp: '2026-12-01T09:59:59Z',
        messageId: 'm-1',
        tags: { [PRINCIPAL_TAG]: [String(principalTag(alice))] },
      },
    },
  };
}

const mailAliceAndBob = () =>
  runEffects(depsFromEnv(), [
    {
      kind: 'mail',
      to: { principals: [alice, { principalType: 'user', principalId: 'bob' }] },
      mail: { subject: 'hello', text: 't', html: 'h' },
    },
  ]);
const auditOf = async (action: string) =>
  (await call('GET', `/v1/audit-events?action=${action}`, { as: 'admin' })).body.items as {
    target: { principalId: string | null };
    details: Record<string, unknown>;
  }[];

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
  depsFromEnv().mailer = { send: async (m) => void sent.push(m) };
  for (const [id, email] of [
    ['alice', 'Alice@Example.com'],
    ['bob', 'bob@example.com'],
  ]) {
    const res = await call('PUT', `/v1/principals/${id}`, {
      as: 'admin',
      body: { type: 'user', displayName: id, email },
    });
    expect(res.status).toBe(200);
  }
});

describe('mail feedback', () => {
  it('mails every principal while no address is suppressed, tagging each address with its principal', async () => {
    sent.length = 0;
    await mailAliceAndBob();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.to.sort()).toEqual(['Alice@Example.com', 'bob@example.com']);
    expect(sent[0]?.principals?.get('Alice@Example.com')).toEqual(alice);
  });

  it('records nothing for a transient bounce or an event that does not parse', async () => {
    expect(await handler(bounceEvent('alice@example.com', { bounceType: 'Transient' }))).toEqual({
      suppressed: 0,
      ignored: 'notPermanent',
    });
    expect(await handler({ source: 'aws.ses', detail: { eventType: 'Bounce', bounce: 'x'.repeat(200_000) } })).toEqual({
      suppressed: 0,
      ignored: 'invalid',
    });
    expect(await depsFromEnv().store.get(keys.mailSuppression('alice@example.com'))).toBeUndefined();
    expect(await auditOf('principal.mailSuppressed')).toEqual([]);
  });

  it('suppresses the address of a permanent bounce once (a redelivery writes nothing twice), audited on the principal', async () => {
    // Act
    expect(await handler(bounceEvent('ALICE@example.com'))).toEqual({ suppressed: 1 });
    expect(await handler(bounceEvent('alice@example.com'))).toEqual({ suppressed: 0, ignored: 'alreadyRecorded' });

    // Assess
    const events = await auditOf('principal.mailSuppressed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      target: { principalId: 'alice' },
      details: { principalType: 'user', address: 'alice@example.com', reason: 'bounce', kind: 'Permanent/General' },
    });
  });

  it('no longer mails the suppressed address; the others still get theirs', async () => {
    sent.length = 0;
    await mailAliceAndBob();
    expect(sent.map((m) => m.to)).toEqual([['bob@example.com']]);
  });

  it('shows the admin why, and lets the admin clear it (audited), after which the address is mailed again', async () => {
    // Assess: the admin sees it
    const seen = await call('GET', '/v1/principals/alice', { as: 'admin' });
    expect(seen.body.mail).toEqual({
      suppressed: true,
      reason: 'bounce',
      kind: 'Permanent/General',
      diagnostic: 'smtp; 550 5.1.1 user unknown',
      since: '2026-12-01T10:00:00.000Z',
    });

    // Act: a profile update without `mail` keeps it; `mail: { suppressed: false }` clears it
    const kept = await call('PUT', '/v1/principals/alice', {
      as: 'admin',
      body: { type: 'user', displayName: 'Alice', email: 'Alice@Example.com' },
    });
    expect(kept.body.mail.suppressed).toBe(true);
    const cleared = await call('PUT', '/v1/principals/alice', {
      as: 'admin',
      body: { type: 'user', displayName: 'Alice', email: 'Alice@Example.com', mail: { suppressed: false } },
    });

    // Assess
    expect(cleared.status).toBe(200);
    expect(cleared.body.mail.suppressed).toBe(false);
    expect((await call('GET', '/v1/principals/alice', { as: 'admin' })).body.mail.suppressed).toBe(false);
    expect(await auditOf('principal.mailUnsuppressed')).toMatchObject([
      { target: { principalId: 'alice' }, details: { address: 'alice@example.com', was: { feedbackId: 'fb-1' } } },
    ]);
    sent.length = 0;
    await mailAliceAndBob();
    expect(sent[0]?.to.sort()).toEqual(['Alice@Example.com', 'bob@example.com']);
  });

  it('refuses a suppression set by the input (only clearing is allowed), writing nothing', async () => {
    const res = await call('PUT', '/v1/principals/bob', {
      as: 'admin',
      body: { type: 'user', displayName: 'Bob', email: 'bob@example.com', mail: { suppressed: true } },
    });
    expect(res.status).toBe(400);
    expect((await call('GET', '/v1/principals/bob', { as: 'admin' })).body.displayName).toBe('bob');
  });
});
