import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { lazyClient } from './lazy.ts';

/** The mail port (SES). Mail is sent after a change commits and never decides whether it commits. */
export interface Mail {
  to: string[];
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

export class SesMailer implements Mailer {
  /** The SDK is loaded on first use (see lazy.ts). */
  readonly #ses = lazyClient(
    () => import('@aws-sdk/client-sesv2'),
    (m) => new m.SESv2Client({}),
  );

  constructor(private readonly from: string) {}

  /** The client (public for tests, which add middleware to it: fault injection). */
  client(): Promise<SESv2Client> {
    return this.#ses.client();
  }

  async send(mail: Mail): Promise<void> {
    if (mail.to.length === 0) return;
    const { sdk, client } = await this.#ses.get();
    await client.send(
      new sdk.SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: mail.to },
        Content: {
          Simple: {
            Subject: { Data: mail.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: mail.text, Charset: 'UTF-8' }, Html: { Data: mail.html, Charset: 'UTF-8' } },
          },
        },
      }),
    );
  }
}
