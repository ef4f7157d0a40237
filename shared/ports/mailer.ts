import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { PRINCIPAL_TAG, principalTag } from '../domain/mail-tag.ts';
import type { PrincipalRef } from '../domain/primitives.ts';
import { errorFields, log } from '../log.ts';
import { SDK_MAX_ATTEMPTS } from '../retry.ts';
import { lazyClient } from './lazy.ts';

/** The mail port (SES). Mail is sent after a change commits and never decides whether it commits. */
export interface Mail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /**
   * The principal each address was resolved from (absent for a literal address): the message to it carries the
   * principal's tag, so SES's bounce or complaint about it names the principal (mail-feedback.ts).
   */
  principals?: ReadonlyMap<string, PrincipalRef>;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/** How long the account's send quota is trusted before it is read again. */
const QUOTA_TTL_MS = 3_600_000;
/** The rate when the quota cannot be read: the SES sandbox's (1 message a second). */
const FALLBACK_RATE = 1;

/**
 * Spaces the sends of this process to at most `rate()` messages a second (the account's `MaxSendRate`, read with
 * GetAccount and cached for an hour). Concurrent Lambda environments each keep to it; beyond the account's rate SES
 * answers Throttling, which the SDK retries with backoff.
 */
export class SendRateLimiter {
  #next = 0;
  #rate: { value: number; until: number } | undefined;

  constructor(private readonly rate: () => Promise<number>) {}

  async take(): Promise<void> {
    const now = performance.now();
    if (!this.#rate || this.#rate.until < now) {
      let value = FALLBACK_RATE;
      try {
        value = await this.rate();
      } catch (error) {
        log('warn', 'could not read the SES send quota; sending 1 message a second', errorFields(error));
      }
      this.#rate = { value: value > 0 ? value : FALLBACK_RATE, until: now + QUOTA_TTL_MS };
    }
    const gap = 1000 / this.#rate.value;
    const at = Math.max(performance.now(), this.#next);
    this.#next = at + gap;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * SES v2. One message per recipient (SES takes at most 50 recipients a message, and one bad address would reject
 * the whole message): a recipient SES refuses is logged and the others still get theirs; the call fails only when
 * every recipient was refused. Sends keep to the account's send rate (`SendRateLimiter`).
 *
 * Every message goes out under the configuration set (when one is configured; the deployed stack always does), whose
 * event destination reports bounces and complaints to the mail feedback function; the message's tag names the
 * principal its recipient was resolved from.
 */
export class SesMailer implements Mailer {
  /** The SDK is loaded on first use (see lazy.ts). */
  readonly #ses = lazyClient(
    () => import('@aws-sdk/client-sesv2'),
    (m) => new m.SESv2Client({ maxAttempts: SDK_MAX_ATTEMPTS }),
  );
  readonly #limiter: SendRateLimiter;

  constructor(
    private readonly from: string,
    limiter?: SendRateLimiter,
    private readonly configurationSet?: string,
  ) {
    this.#limiter =
      limiter ??
      new SendRateLimiter(async () => {
        const { sdk, client } = await this.#ses.get();
        const account = await client.send(new sdk.GetAccountCommand({}));
        return account.SendQuota?.MaxSendRate ?? FALLBACK_RATE;
      });
  }

  /** The client (public for tests, which add middleware to it: fault injection). */
  client(): Promise<SESv2Client> {
    return this.#ses.client();
  }

  async send(mail: Mail): Promise<void> {
    const recipients = [...new Set(mail.to)];
    if (recipients.length === 0) return;
    const { sdk, client } = await this.#ses.get();
    let refused = 0;
    let lastError: unknown;
    for (const address of recipients) {
      await this.#limiter.take();
      const principal = mail.principals?.get(address);
      const tag = principal && principalTag(principal);
      try {
        await client.send(
          new sdk.SendEmailCommand({
            FromEmailAddress: this.from,
            Destination: { ToAddresses: [address] },
            ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
            ...(tag ? { EmailTags: [{ Name: PRINCIPAL_TAG, Value: tag }] } : {}),
            Content: {
              Simple: {
                Subject: { Data: mail.subject, Charset: 'UTF-8' },
                Body: { Text: { Data: mail.text, Charset: 'UTF-8' }, Html: { Data: mail.html, Charset: 'UTF-8' } },
              },
            },
          }),
        );
      } catch (error) {
        refused++;
        lastError = error;
        // The error's name only: SES messages may quote the address, and logs never hold one.
        log('warn', 'SES refused one recipient; the others are still mailed', { error: (error as Error)?.name });
      }
    }
    if (refused === recipients.length) throw lastError;
  }
}
