/**
 * A stand-in for the Slack Web API methods Elevate calls (chat.postMessage, chat.update, chat.postEphemeral,
 * views.open, users.lookupByEmail), served by the local runtime under `/_local/slack/api/<method>` (the handlers'
 * `@slack/web-api` client points there through ELEVATE_SLACK_API_URL), so the whole Slack journey runs offline.
 * It records every call (`GET /_local/slack/messages`), checks the bot token as Slack does (`invalid_auth`), knows the
 * Slack users registered with `POST /_local/slack/users` `{ email, id }`, and can answer a method's next calls with a
 * 429 and `Retry-After` or a 500 (`POST /_local/slack/faults` `{ method, status, times, retryAfter }`), or slowly
 * (`POST /_local/slack/latency` `{ method, ms }`, 0 to stop).
 */
import type { HttpResult } from './http-event.ts';

/** Where the stand-in serves the Web API: the local runtime's default ELEVATE_SLACK_API_URL is `<url>` + this. */
export const LOCAL_SLACK_API_PATH = '/_local/slack/api/';
/** The signing secret and bot token the local runtime turns Slack on with (`startLocal({ slack: true })`). */
export const LOCAL_SLACK_SIGNING_SECRET = 'local-slack-signing-secret';
export const LOCAL_SLACK_BOT_TOKEN = 'xoxb-local-elevate';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  at: string;
}

export interface SlackPosted {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  /** How many times chat.update replaced it. */
  updates: number;
}

interface Fault {
  status: number;
  times: number;
  retryAfter: number;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});

/** What the client sends: form-encoded (its default; objects as JSON text) or JSON. */
function argsOf(contentType: string, body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (contentType.includes('application/json')) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    if (k === 'blocks' || k === 'view') {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // kept as text, as Slack would refuse it
      }
    }
    out[k] = v;
  }
  return out;
}

export class LocalSlack {
  readonly calls: SlackCall[] = [];
  readonly #messages = new Map<string, SlackPosted>();
  readonly #users = new Map<string, string>();
  readonly #faults = new Map<string, Fault>();
  /** How long each method takes to answer (`POST /_local/slack/latency`), in ms. */
  readonly #latency = new Map<string, number>();
  #ts = 0;

  constructor(
    private readonly botToken: () => string | undefined,
    private readonly now: () => Date,
  ) {}

  static handles(path: string): boolean {
    return path.startsWith('/_local/slack/');
  }

  /** The messages posted (direct messages' channels are `D` + the user id's tail), in order. */
  messages(): SlackPosted[] {
    return [...this.#messages.values()];
  }

  /** Forgets every call and message (the users registered stay). */
  clear(): void {
    this.calls.length = 0;
    this.#messages.clear();
  }

  register(email: string, id: string): void {
    this.#users.set(email.toLowerCase(), id);
  }

  request(
    method: string,
    path: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): HttpResult | Promise<HttpResult> {
    if (method === 'GET' && path === '/_local/slack/messages') {
      return json(200, { items: this.messages(), calls: this.calls });
    }
    if (method === 'DELETE' && path === '/_local/slack/messages') {
      this.clear();
      return { status: 204, headers: {}, body: Buffer.alloc(0) };
    }
    if (method === 'POST' && path === '/_local/slack/users') {
      const { email, id } = JSON.parse(body.toString('utf8') || '{}') as { email?: string; id?: string };
      if (!email || !id) return json(400, { error: 'send { email, id }' });
      this.register(email, id);
      return json(200, { email, id });
    }
    if (method === 'POST' && path === '/_local/slack/faults') {
      const f = JSON.parse(body.toString('utf8') || '{}') as Partial<Fault> & { method?: string };
      if (!f.method || !f.status) return json(400, { error: 'send { method, status, times?, retryAfter? }' });
      this.#faults.set(f.method, { status: f.status, times: f.times ?? 1, retryAfter: f.retryAfter ?? 1 });
      return json(200, { ok: true });
    }
    if (method === 'POST' && path === '/_local/slack/latency') {
      const l = JSON.parse(body.toString('utf8') || '{}') as { method?: string; ms?: number };
      if (!l.method || typeof l.ms !== 'number' || l.ms < 0) return json(400, { error: 'send { method, ms }' });
      this.#latency.set(l.method, l.ms);
      return json(200, { ok: true });
    }
    const m = /^\/_local\/slack\/api\/([a-zA-Z.]+)$/.exec(path);
    if (method !== 'POST' || !m?.[1]) return json(404, { error: `no ${method} ${path} in the Slack stand-in` });
    const name = m[1];
    const delay = this.#latency.get(name) ?? 0;
    if (!delay) return this.#call(name, headers, body);
    // Process time: Slack's own latency, whatever the runtime's clock.
    return new Promise((done) => setTimeout(() => done(this.#call(name, headers, body)), delay));
  }

  #call(name: string, headers: Record<string, string | string[] | undefined>, body: Buffer): HttpResult {
    const fault = this.#faults.get(name);
    if (fault && fault.times > 0) {
      fault.times--;
      return fault.status === 429
        ? json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter) })
        : json(fault.status, { ok: false, error: 'fatal_error' });
    }
    const args = argsOf(String(headers['content-type'] ?? ''), body);
    const auth = String(headers.authorization ?? '');
    const token = auth.replace(/^Bearer\s+/i, '') || String(args.token ?? '');
    if (!this.botToken() || token !== this.botToken()) return json(200, { ok: false, error: 'invalid_auth' });
    delete args.token;
    this.calls.push({ method: name, args, at: this.now().toISOString() });
    switch (name) {
      case 'chat.postMessage': {
        const to = String(args.channel ?? '');
        if (!/^[CGDUW][A-Z0-9]+$/.test(to)) return json(200, { ok: false, error: 'channel_not_found' });
        const channel = /^[UW]/.test(to) ? `D${to.slice(1)}` : to;
        const ts = `${Math.floor(this.now().getTime() / 1000)}.${String(++this.#ts).padStart(6, '0')}`;
        const posted = {
          channel,
          ts,
          text: String(args.text ?? ''),
          blocks: (args.blocks as unknown[]) ?? [],
          updates: 0,
        };
        this.#messages.set(`${channel}/${ts}`, posted);
        return json(200, { ok: true, channel, ts, message: { text: posted.text } });
      }
      case 'chat.update': {
        const found = this.#messages.get(`${String(args.channel)}/${String(args.ts)}`);
        if (!found) return json(200, { ok: false, error: 'message_not_found' });
        found.text = String(args.text ?? '');
        found.blocks = (args.blocks as unknown[]) ?? [];
        found.updates++;
        return json(200, { ok: true, channel: found.channel, ts: found.ts });
      }
      case 'chat.postEphemeral':
        return json(200, { ok: true, message_ts: `${Math.floor(this.now().getTime() / 1000)}.000000` });
      case 'views.open':
        return json(200, { ok: true, view: { id: `V${this.calls.length}` } });
      case 'users.lookupByEmail': {
        const id = this.#users.get(String(args.email ?? '').toLowerCase());
        return json(200, id ? { ok: true, user: { id } } : { ok: false, error: 'users_not_found' });
      }
      default:
        return json(200, { ok: false, error: 'unknown_method' });
    }
  }
}
