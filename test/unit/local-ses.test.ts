import { describe, expect, it } from 'vitest';
import { LOCAL_MAIL_CONFIGURATION_SET, type SesFeedback, sesSendEmail } from '#infra/local/aws-standins.ts';
import { parseMailFeedback, suppressionsOf } from '#shared/domain/mail-feedback.ts';

/** The local SES stand-in's configuration set and mailbox simulator (docs/local-runtime.md). */
const send = (to: string, extra: Record<string, unknown> = {}) => {
  const events: SesFeedback[] = [];
  const body = {
    FromEmailAddress: 'elevate@localhost',
    Destination: { ToAddresses: [to] },
    Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } },
    ...extra,
  };
  const result = sesSendEmail(Buffer.from(JSON.stringify(body)), (e) => events.push(e));
  return { status: result.status, events };
};
const underSet = { ConfigurationSetName: LOCAL_MAIL_CONFIGURATION_SET };

describe('the local SES stand-in', () => {
  it('reports a bounce and a complaint of the simulator addresses as SES does, which the feedback rule accepts', () => {
    // Act
    const bounced = send('bounce+x@simulator.amazonses.com', underSet);
    const complained = send('complaint@simulator.amazonses.com', underSet);

    // Assess
    expect(bounced.status).toBe(200);
    const bounce = parseMailFeedback(bounced.events[0]);
    expect(bounce && suppressionsOf(bounce)).toMatchObject([{ reason: 'bounce', kind: 'Permanent/General' }]);
    const complaint = parseMailFeedback(complained.events[0]);
    expect(complaint && suppressionsOf(complaint)).toMatchObject([{ reason: 'complaint' }]);
  });

  it('reports nothing for a delivered address, or for a message sent without the configuration set', () => {
    expect(send('alice@example.com', underSet).events).toEqual([]);
    expect(send('bounce@simulator.amazonses.com').events).toEqual([]);
  });

  it('refuses a configuration set that does not exist, as SES does', () => {
    const refused = send('alice@example.com', { ConfigurationSetName: 'nope' });
    expect(refused).toEqual({ status: 404, events: [] });
  });
});
