import { createRequire } from 'node:module';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { WebClient } from '@slack/web-api';
import type { SlackConfig } from '../config.ts';
import { SDK_MAX_ATTEMPTS } from '../retry.ts';
import { lazyClient } from './lazy.ts';

/** The bot token and the signing secret: from Secrets Manager in AWS, from the environment locally. */
export interface SlackCredentials {
  signingSecret: string;
  botToken: string;
}

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

/**
 * The Slack port: the Web API methods Elevate calls. Every call after a change commits is an effect (its failure is
 * logged, the change stands); the client retries a failed call itself (`retryConfig`) and waits out a 429's
 * `Retry-After` (Slack's rate limits), as an AWS SDK client does its throttling: nothing retries on top.
 */
export interface Slack {
  credentials(): Promise<SlackCredentials>;
  /** chat.postMessage; `channel` is a channel id, or a user id (the app's direct message with that user). */
  postMessage(channel: string, message: SlackMessage): Promise<{ channel: string; ts: string }>;
  /** chat.update of a message posted before. */
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  /** views.open: the decision modal, within 3 s of the click's trigger. */
  openView(triggerId: string, view: unknown): Promise<void>;
  /** chat.postEphemeral: a message only `user` sees in `channel`. */
  postEphemeral(channel: string, user: string, text: string): Promise<void>;
  /** users.lookupByEmail: the Slack user of an address, or null when Slack has none. */
  lookupByEmail(email: string): Promise<string | null>;
}

/** Tries of one Web API call in all (the client's own retries, 429s waited out by their Retry-After). */
const SLACK_RETRIES = SDK_MAX_ATTEMPTS - 1;

const loadSecrets = () => import('@aws-sdk/client-secrets-manager');

/**
 * Reads the credentials once per process: the secret `secretArn` (JSON `{ "signingSecret", "botToken" }`) from
 * Secrets Manager, or the ones the configuration holds (local runtime). A failed read is not cached: the next call
 * reads again.
 */
export function credentialsOf(config: SlackConfig, client?: SecretsManagerClient): () => Promise<SlackCredentials> {
  if ('signingSecret' in config) {
    const { signingSecret, botToken } = config;
    return async () => ({ signingSecret, botToken });
  }
  const secrets = lazyClient(
    loadSecrets,
    (sdk) => client ?? new sdk.SecretsManagerClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
  );
  let cached: Promise<SlackCredentials> | undefined;
  return () => {
    cached ??= (async () => {
      const { sdk, client: c } = await secrets.get();
      const out = await c.send(new sdk.GetSecretValueCommand({ SecretId: config.secretArn }));
      return parseSecret(out.SecretString);
    })().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

/** The secret's JSON: both fields, non-empty. */
export function parseSecret(text: string | undefined): SlackCredentials {
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    throw new Error('the Slack secret is not JSON: it must be { "signingSecret": "…", "botToken": "xoxb-…" }');
  }
  const { signingSecret, botToken } = (json ?? {}) as Record<string, unknown>;
  if (typeof signingSecret !== 'string' || !signingSecret || typeof botToken !== 'string' || !botToken) {
    throw new Error('the Slack secret must hold a non-empty signingSecret and botToken');
  }
  return { signingSecret, botToken };
}

/**
 * `@slack/web-api`, loaded on first use through CommonJS resolution: no Lambda bundle carries it (its ~310 KB would
 * break the bundling bar); the functions that talk to Slack find it in the SlackClient layer through the runtime's
 * NODE_PATH (/opt/nodejs/node_modules), which ESM `import` does not search. Locally, node_modules.
 */
const loadWebApi = async (): Promise<typeof import('@slack/web-api')> =>
  createRequire(import.meta.url)('@slack/web-api') as typeof import('@slack/web-api');

/** The Slack port on the official Web API client (`@slack/web-api`). */
export class WebApiSlack implements Slack {
  readonly credentials: () => Promise<SlackCredentials>;
  readonly #client: () => Promise<WebClient>;

  constructor(config: SlackConfig, secrets?: SecretsManagerClient, client?: WebClient) {
    this.credentials = credentialsOf(config, secrets);
    const web = lazyClient(loadWebApi, (sdk) => sdk);
    let made: Promise<WebClient> | undefined;
    this.#client = () => {
      made ??= (async () => {
        if (client) return client;
        const sdk = (await web.get()).sdk;
        const { botToken } = await this.credentials();
        return new sdk.WebClient(botToken, {
          ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
          retryConfig: { retries: SLACK_RETRIES, factor: 2, minTimeout: 200, maxTimeout: 2_000 },
          timeout: 5_000,
          rejectRateLimitedCalls: false,
          logLevel: sdk.LogLevel.ERROR,
        });
      })().catch((error: unknown) => {
        made = undefined;
        throw error;
      });
      return made;
    };
  }

  async postMessage(channel: string, message: SlackMessage): Promise<{ channel: string; ts: string }> {
    const out = await (await this.#client()).chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks as never,
    });
    if (!out.channel || !out.ts) throw new Error('chat.postMessage answered without channel or ts');
    return { channel: out.channel, ts: out.ts };
  }

  async update(channel: string, ts: string, message: SlackMessage): Promise<void> {
    await (await this.#client()).chat.update({ channel, ts, text: message.text, blocks: message.blocks as never });
  }

  async openView(triggerId: string, view: unknown): Promise<void> {
    await (await this.#client()).views.open({ trigger_id: triggerId, view: view as never });
  }

  async postEphemeral(channel: string, user: string, text: string): Promise<void> {
    await (await this.#client()).chat.postEphemeral({ channel, user, text });
  }

  async lookupByEmail(email: string): Promise<string | null> {
    try {
      const out = await (await this.#client()).users.lookupByEmail({ email });
      return out.user?.id ?? null;
    } catch (error) {
      if ((error as { data?: { error?: string } }).data?.error === 'users_not_found') return null;
      throw error;
    }
  }
}
