import { describe, expect, it } from 'vitest';
import { PRINCIPAL_TAG, principalFromTags, principalTag } from '#shared/domain/mail-feedback.ts';
import { SendRateLimiter, SesMailer } from '#shared/ports/mailer.ts';

/** Answers every command in-process (no network) and records what was sent. */
async function fakeSes(mailer: SesMailer, opts: { maxSendRate?: number; refuse?: string[] } = {}) {
  const sent: { command: string; input: Record<string, unknown>; at: number }[] = [];
  const client = await mailer.client();
  // biome-ignore lint/suspicious/noExplicitAny: a test double of the SDK's middleware contract
  (client.middlewareStack as any).add(
    // biome-ignore lint/suspicious/noExplicitAny: a test double of the SDK's middleware contract
    (_next: any, context: any) => async (args: any) => {
      const command = String(context.commandName);
      sent.push({ command, input: args.input, at: performance.now() });
      if (command === 'GetAccountCommand') {
        return { output: { SendQuota: { MaxSendRate: opts.maxSendRate ?? 14, Max24HourSend: 200 } } };
      }
      const to = (args.input.Destination?.ToAddresses ?? []) as string[];
      if (to.some((a) => opts.refuse?.includes(a))) {
        const error = new Error('Illegal address');
        error.name = 'MessageRejected';
        throw error;
      }
      return { output: { MessageId: 'm' } };
    },
    { step: 'initialize', name: 'fake-ses' },
  );
  return sent;
}

const mail = (to: string[]) => ({ to, subject: 's', text: 't', html: '<p>t</p>' });

describe('SesMailer', () => {
  it('sends one message per recipient, so 120 recipients never make one message of more than 50', async () => {
    // Prepare
    const mailer = new SesMailer('elevate@example.com', new SendRateLimiter(async () => 10_000));
    const sent = await fakeSes(mailer);
    const to = Array.from({ length: 120 }, (_, i) => `u${i}@example.com`);

    // Act
    await mailer.send(mail([...to, 'u0@example.com']));

    // Assess
    const sends = sent.filter((s) => s.command === 'SendEmailCommand');
    expect(sends).toHaveLength(120);
    for (const s of sends) expect((s.input.Destination as { ToAddresses: string[] }).ToAddresses).toHaveLength(1);
    expect(sends.map((s) => (s.input.Destination as { ToAddresses: string[] }).ToAddresses[0])).toEqual(to);
  });

  it('still mails the others when SES rejects one address', async () => {
    // Prepare
    const mailer = new SesMailer('elevate@example.com', new SendRateLimiter(async () => 10_000));
    const sent = await fakeSes(mailer, { refuse: ['bad@example.com'] });

    // Act
    await mailer.send(mail(['a@example.com', 'bad@example.com', 'b@example.com']));

    // Assess
    const to = sent.filter((s) => s.command === 'SendEmailCommand').map((s) => s.input.Destination);
    expect(to).toEqual([
      { ToAddresses: ['a@example.com'] },
      { ToAddresses: ['bad@example.com'] },
      { ToAddresses: ['b@example.com'] },
    ]);
  });

  it("keeps to the account's send rate, read once from GetAccount", async () => {
    // Prepare: a quota of 20 messages a second
    const mailer = new SesMailer('elevate@example.com');
    const sent = await fakeSes(mailer, { maxSendRate: 20 });

    // Act: 11 messages
    await mailer.send(mail(Array.from({ length: 11 }, (_, i) => `r${i}@example.com`)));
    await mailer.send(mail(['again@example.com']));

    // Assess: GetAccount once; 12 sends spaced 50 ms apart take at least 550 ms
    expect(sent.filter((s) => s.command === 'GetAccountCommand')).toHaveLength(1);
    const sends = sent.filter((s) => s.command === 'SendEmailCommand');
    expect(sends).toHaveLength(12);
    expect((sends.at(-1)?.at ?? 0) - (sends[0]?.at ?? 0)).toBeGreaterThanOrEqual(11 * 50 - 5);
  });

  it('sends every message under the configuration set, tagged with the principal its recipient was resolved from', async () => {
    // Prepare
    const mailer = new SesMailer('elevate@example.com', new SendRateLimiter(async () => 10_000), 'elevate-set');
    const sent = await fakeSes(mailer);
    const alice = { principalType: 'user', principalId: 'alice' } as const;

    // Act: one address of a principal, one literal address
    await mailer.send({
      ...mail(['alice@example.com', 'list@example.com']),
      principals: new Map([['alice@example.com', alice]]),
    });

    // Assess
    const sends = sent.filter((s) => s.command === 'SendEmailCommand').map((s) => s.input);
    expect(sends[0]).toMatchObject({
      ConfigurationSetName: 'elevate-set',
      Destination: { ToAddresses: ['alice@example.com'] },
      EmailTags: [{ Name: PRINCIPAL_TAG, Value: principalTag(alice) }],
    });
    expect(principalFromTags({ [PRINCIPAL_TAG]: [String(principalTag(alice))] })).toEqual(alice);
    expect(sends[1]).toMatchObject({ ConfigurationSetName: 'elevate-set' });
    expect(sends[1]).not.toHaveProperty('EmailTags');
  });
});
