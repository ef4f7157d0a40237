import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';

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
  constructor(
    private readonly from: string,
    /** Public for tests, which add middleware to it (fault injection). */
    readonly client = new SESv2Client({}),
  ) {}

  async send(mail: Mail): Promise<void> {
    if (mail.to.length === 0) return;
    await this.client.send(
      new SendEmailCommand({
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
