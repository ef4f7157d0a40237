import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_DIAGNOSTIC,
  mailStatus,
  PRINCIPAL_TAG,
  parseMailFeedback,
  principalFromTags,
  principalTag,
  suppressionsOf,
} from '#shared/domain/mail-feedback.ts';

const alice = { principalType: 'user', principalId: 'alice' } as const;

/** A bounce as SES puts it on the default bus (docs: "Amazon SES event publishing", EventBridge). */
function bounce(overrides: { bounceType?: string; subType?: string; recipients?: unknown[]; tag?: string } = {}) {
  return {
    version: '0',
    id: 'e1',
    'detail-type': 'Email Bounced',
    source: 'aws.ses',
    account: '123456789012',
    time: '2026-12-01T10:00:01Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventType: 'Bounce',
      bounce: {
        feedbackId: 'fb-1',
        bounceType: overrides.bounceType ?? 'Permanent',
        bounceSubType: overrides.subType ?? 'General',
        bouncedRecipients: overrides.recipients ?? [
          { emailAddress: 'Alice@Example.com', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1' },
        ],
        timestamp: '2026-12-01T10:00:00.123Z',
        reportingMTA: 'dns; a.example.com',
      },
      mail: {
        timestamp: '2026-12-01T09:59:59.000Z',
        source: 'elevate@example.com',
        messageId: 'm-1',
        destination: ['alice@example.com'],
        tags: { 'ses:configuration-set': ['elevate'], [PRINCIPAL_TAG]: [overrides.tag ?? String(principalTag(alice))] },
      },
    },
  };
}

function complaint() {
  const b = bounce();
  return {
    ...b,
    'detail-type': 'Email Complaint Received',
    detail: {
      eventType: 'Complaint',
      complaint: {
        feedbackId: 'fb-2',
        complainedRecipients: [{ emailAddress: 'alice@example.com' }],
        complaintFeedbackType: 'abuse',
        timestamp: '2026-12-01T11:00:00Z',
        userAgent: 'x',
      },
      mail: b.detail.mail,
    },
  };
}

describe('mail feedback (SES bounces and complaints)', () => {
  it('suppresses the address of a permanent bounce, naming the principal of the message tag', () => {
    // Act
    const parsed = parseMailFeedback(bounce());

    // Assess
    expect(parsed).not.toBeNull();
    expect(suppressionsOf(parsed as never)).toEqual([
      {
        address: 'alice@example.com',
        reason: 'bounce',
        kind: 'Permanent/General',
        diagnostic: 'smtp; 550 5.1.1',
        feedbackId: 'fb-1',
        since: '2026-12-01T10:00:00.123Z',
        principal: alice,
      },
    ]);
  });

  it('suppresses the address of a complaint', () => {
    const found = suppressionsOf(parseMailFeedback(complaint()) as never);
    expect(found).toMatchObject([{ address: 'alice@example.com', reason: 'complaint', kind: 'abuse' }]);
  });

  it('suppresses nothing for a transient or undetermined bounce', () => {
    for (const bounceType of ['Transient', 'Undetermined']) {
      const parsed = parseMailFeedback(bounce({ bounceType, subType: 'MailboxFull' }));
      expect(parsed).not.toBeNull();
      expect(suppressionsOf(parsed as never)).toEqual([]);
    }
  });

  it('refuses events that are not an SES bounce or complaint, or that contradict themselves', () => {
    const b = bounce();
    for (const odd of [
      null,
      'x',
      42,
      [],
      {},
      { ...b, source: 'elevate' },
      { ...b, 'detail-type': 'Email Complaint Received' },
      { ...b, detail: { ...b.detail, eventType: 'Delivery' } },
      bounce({ bounceType: 'Soft' }),
      bounce({ recipients: [] }),
      bounce({ recipients: [{ emailAddress: 'not an address' }] }),
      bounce({ recipients: [{ emailAddress: 42 }] }),
      bounce({ recipients: Array.from({ length: 51 }, (_, i) => ({ emailAddress: `u${i}@example.com` })) }),
      { ...b, detail: { ...b.detail, bounce: { ...b.detail.bounce, timestamp: 'yesterday' } } },
      { ...b, detail: { ...b.detail, bounce: { ...b.detail.bounce, feedbackId: 'f'.repeat(10_000) } } },
    ]) {
      expect(parseMailFeedback(odd), JSON.stringify(odd)?.slice(0, 200)).toBeNull();
    }
  });

  it('cuts a huge diagnostic instead of refusing a real bounce, and keeps no junk principal from a forged tag', () => {
    // Act
    const parsed = parseMailFeedback(
      bounce({ recipients: [{ emailAddress: 'a@example.com', diagnosticCode: 'x'.repeat(90_000) }], tag: '!!' }),
    );

    // Assess
    const [s] = suppressionsOf(parsed as never);
    expect(s?.diagnostic).toHaveLength(MAX_DIAGNOSTIC);
    expect(s?.principal).toBeNull();
    expect(principalFromTags({ [PRINCIPAL_TAG]: [Buffer.from('admin#x').toString('base64url')] })).toBeNull();
    expect(principalFromTags({ [PRINCIPAL_TAG]: [Buffer.from('user#a b').toString('base64url')] })).toBeNull();
    expect(principalFromTags(undefined)).toBeNull();
  });

  it('never throws on arbitrary input, and what it accepts always yields well-formed suppressions', () => {
    fc.assert(
      fc.property(fc.anything(), (junk) => {
        const parsed = parseMailFeedback(junk);
        if (parsed) for (const s of suppressionsOf(parsed)) expect(s.address).toMatch(/@/);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (detail) => {
        expect(parseMailFeedback({ ...bounce(), detail })).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('shows an unsuppressed address as such', () => {
    expect(mailStatus(undefined)).toEqual({
      suppressed: false,
      reason: null,
      kind: null,
      diagnostic: null,
      since: null,
    });
  });

  it('leaves out of the tag a principal whose id is too long for an SES tag', () => {
    expect(principalTag({ principalType: 'user', principalId: 'x'.repeat(256) })).toBeUndefined();
    expect(principalTag(alice)).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
