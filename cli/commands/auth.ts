/** login (device flow or the local runtime), logout, whoami. */
import { hostname, userInfo } from 'node:os';
import type { Command, Context } from '../args.ts';
import { str } from '../args.ts';
import { localToken, TokenSource } from '../client.ts';
import { expiryOf, jwtClaims, normalizeUrl } from '../config.ts';
import { ApiError, CliError, EXIT, UsageError } from '../errors.ts';
import { deviceLogin, discover, revoke } from '../oidc.ts';
import { paint, until } from '../output.ts';
import { printable, printableDeep } from '../text.ts';

// The API scope is the deploy parameter OidcScopes' default (shared/auth/scopes.ts): the access token must carry it.
const DEFAULT_OIDC_SCOPE = 'openid profile email offline_access elevate/api';

const list = (v: string | undefined) =>
  v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The API for `login --local` when none is configured: the local runtime's default address. */
function apiOrLocalDefault(ctx: Context): string {
  try {
    return ctx.apiUrl();
  } catch {
    return `http://127.0.0.1:${ctx.env.PORT || '3000'}`;
  }
}

export const login: Command = {
  name: 'login',
  summary: 'log in: device code flow with your OIDC issuer, or --local for the local runtime',
  usage: '[--issuer URL --client-id ID] | --local [--sub ID] [--mfa] [--groups G1,G2]',
  description: `Log in and cache the token for the API (in $XDG_CONFIG_HOME/elevate/credentials.json, mode 0600).

Without --local: the OAuth 2.0 device authorization grant (RFC 8628) with the OIDC issuer (--issuer,
$ELEVATE_ISSUER or the config; discovered at <issuer>/.well-known/openid-configuration). Open the link
shown, enter the code, and the CLI picks up the tokens; the refresh token renews the access token when it
expires. --api, --issuer and --client-id given here are remembered in config.json.

With --local: a token from the local runtime (POST /_local/token), renewed the same way when it expires.
The API defaults to http://127.0.0.1:$PORT (3000).`,
  options: {
    issuer: { type: 'string', arg: 'URL', description: 'the OIDC issuer (default: $ELEVATE_ISSUER, then the config)' },
    'client-id': {
      type: 'string',
      arg: 'ID',
      description: 'the OAuth client id (default: $ELEVATE_CLIENT_ID, then config)',
    },
    'oidc-scope': {
      type: 'string',
      arg: 'SCOPES',
      description: `scopes to ask for (default: "${DEFAULT_OIDC_SCOPE}")`,
    },
    local: { type: 'boolean', description: 'take a token from the local runtime instead' },
    sub: { type: 'string', arg: 'ID', description: '--local: the principal id (default: your user name)' },
    mfa: { type: 'boolean', description: '--local: the token says MFA was used (amr: ["mfa"])' },
    email: { type: 'string', arg: 'ADDRESS', description: '--local: the email claim' },
    name: { type: 'string', arg: 'NAME', description: '--local: the name claim' },
    groups: { type: 'string', arg: 'G1,G2', description: '--local: the groups claim' },
    acrs: { type: 'string', arg: 'C1,C2', description: '--local: authentication contexts satisfied' },
    ttl: { type: 'string', arg: 'SECONDS', description: '--local: token lifetime (default: the runtime default)' },
  },
  args: { min: 0, max: 0 },
  examples: [
    'elevate login --api https://elevate.example.com --issuer https://login.example.com --client-id elevate-cli',
    'elevate login --local --sub alice --mfa',
  ],
  async run(ctx, v) {
    if (v.local) return loginLocal(ctx, v);
    for (const k of ['sub', 'mfa', 'email', 'name', 'groups', 'acrs', 'ttl']) {
      if (v[k] !== undefined) throw new UsageError(`--${k} goes with --local`, 'login');
    }
    const api = ctx.apiUrl();
    const issuer = str(v.issuer) ?? ctx.env.ELEVATE_ISSUER ?? ctx.settings.issuer;
    const clientId = str(v['client-id']) ?? ctx.env.ELEVATE_CLIENT_ID ?? ctx.settings.clientId;
    if (!issuer) throw new UsageError('no OIDC issuer: pass --issuer URL (or --local for the local runtime)', 'login');
    if (!clientId) throw new UsageError('no OAuth client id: pass --client-id ID', 'login');
    const scope = str(v['oidc-scope']) ?? ctx.settings.oidcScope ?? DEFAULT_OIDC_SCOPE;
    const discovery = await discover(issuer);
    const answer = await deviceLogin({
      discovery,
      clientId,
      scope,
      prompt: (p) => {
        const c = ctx.out.errColor;
        ctx.out.note(
          [
            `To log in, open ${paint(c, 'cyan', printable(p.verificationUriComplete ?? p.verificationUri))}`,
            `and enter the code ${paint(c, 'bold', printable(p.userCode))} (valid ${Math.round(p.expiresIn / 60)} minutes).`,
            'Waiting for you to approve...',
          ].join('\n'),
        );
      },
    });
    await ctx.store.saveCredentials(api, {
      source: 'oidc',
      accessToken: answer.access_token,
      ...(answer.refresh_token && { refreshToken: answer.refresh_token }),
      ...(answer.id_token && { idToken: answer.id_token }),
      ...(expiryOf(answer.access_token, answer.expires_in) && {
        expiresAt: expiryOf(answer.access_token, answer.expires_in),
      }),
      issuer,
      clientId,
      tokenEndpoint: discovery.token_endpoint as string,
      ...(discovery.revocation_endpoint && { revocationEndpoint: discovery.revocation_endpoint }),
    });
    await ctx.store.updateSettings({
      api,
      issuer,
      clientId,
      ...(str(v['oidc-scope']) !== undefined && { oidcScope: scope }),
    });
    return done(ctx, api, answer.access_token, 'oidc');
  },
};

async function loginLocal(ctx: Context, v: Record<string, string | boolean | undefined>): Promise<number> {
  const api = apiOrLocalDefault(ctx);
  const ttl = str(v.ttl) === undefined ? undefined : Number(v.ttl);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0))
    throw new UsageError('--ttl takes whole seconds', 'login');
  const groups = list(str(v.groups));
  const acrs = list(str(v.acrs));
  const options = {
    sub: str(v.sub) ?? userInfo().username ?? hostname(),
    ...(v.mfa === true && { mfa: true }),
    ...(str(v.email) !== undefined && { email: str(v.email) }),
    ...(str(v.name) !== undefined && { name: str(v.name) }),
    ...(groups && { groups }),
    ...(acrs && { acrs }),
    ...(ttl !== undefined && { ttl }),
  };
  const token = await localToken(api, options);
  const expiresAt = expiryOf(token);
  await ctx.store.saveCredentials(api, {
    source: 'local',
    accessToken: token,
    options,
    ...(expiresAt && { expiresAt }),
  });
  await ctx.store.updateSettings({ api: normalizeUrl(api) });
  return done(ctx, api, token, 'local');
}

function done(ctx: Context, api: string, token: string, source: string): number {
  const claims = jwtClaims(token) ?? {};
  const who = typeof claims.sub === 'string' ? claims.sub : '(unknown)';
  ctx.out.data({ api: normalizeUrl(api), source, sub: who, expiresAt: expiryOf(token) ?? null });
  ctx.out.line(
    `Logged in to ${normalizeUrl(api)} as ${paint(ctx.out.color, 'bold', printable(who))}${mfaNote(claims)}.`,
  );
  return EXIT.ok;
}

const hasMfa = (claims: Record<string, unknown>) => Array.isArray(claims.amr) && claims.amr.includes('mfa');
const mfaNote = (claims: Record<string, unknown>) => (hasMfa(claims) ? ' (with MFA)' : ' (without MFA)');

export const logout: Command = {
  name: 'logout',
  summary: 'forget the cached token of the API (or of every API with --all)',
  usage: '[--all]',
  options: { all: { type: 'boolean', description: 'forget the tokens of every API' } },
  args: { min: 0, max: 0 },
  async run(ctx, v) {
    const api = v.all ? undefined : ctx.apiUrl();
    const creds = api ? await ctx.store.credentials(api) : undefined;
    if (creds?.source === 'oidc' && creds.revocationEndpoint && creds.refreshToken) {
      await revoke(creds.revocationEndpoint, creds.clientId, creds.refreshToken, 'refresh_token');
    }
    const had = await ctx.store.forget(api);
    ctx.out.data({ loggedOut: had, api: api ?? null });
    ctx.out.line(had ? `Logged out${api ? ` of ${api}` : ' everywhere'}.` : 'Not logged in.');
    return EXIT.ok;
  },
};

export const whoami: Command = {
  name: 'whoami',
  summary: 'who the API sees: principal, MFA, groups, token expiry',
  usage: '',
  args: { min: 0, max: 0 },
  async run(ctx) {
    const api = ctx.apiUrl();
    const explicit = ctx.globals.token ?? ctx.env.ELEVATE_TOKEN;
    const token = await new TokenSource(api, ctx.store, explicit || undefined).token();
    const claims = jwtClaims(token);
    if (!claims || typeof claims.sub !== 'string') throw new CliError('the token is not a JWT with a sub claim');
    const creds = explicit ? undefined : await ctx.store.credentials(api);
    // One call proves the API accepts the token (and shows what Elevate knows of the principal).
    let principal: Record<string, unknown> | null = null;
    try {
      principal = await ctx.client().get<Record<string, unknown>>(`/v1/principals/${encodeURIComponent(claims.sub)}`);
    } catch (error) {
      if (!(error instanceof ApiError && error.problem.status === 404)) throw error;
    }
    const groups = Array.isArray(claims.groups) ? (claims.groups as string[]) : [];
    const acrs = Array.isArray(claims.acrs) ? (claims.acrs as string[]) : [];
    const expiresAt = typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : null;
    const source = explicit
      ? 'token (--token / ELEVATE_TOKEN)'
      : creds?.source === 'oidc'
        ? `OIDC ${creds.issuer} (client ${creds.clientId})`
        : 'local runtime token';
    ctx.out.data({
      api,
      source: explicit ? 'token' : (creds?.source ?? null),
      sub: claims.sub,
      email: claims.email ?? null,
      name: claims.name ?? null,
      groups,
      mfa: hasMfa(claims),
      acrs,
      expiresAt,
      principal,
    });
    // The claims are the identity provider's text, the principal the API's: both shown escaped.
    const shown: Record<string, unknown> & { groups: string[]; acrs: string[]; source: string } = printableDeep({
      ...claims,
      groups,
      acrs,
      source,
    });
    const name = [shown.name ?? principal?.displayName, shown.email ?? principal?.email].filter(Boolean);
    const rows: [string, string][] = [
      ['api', api],
      ['login', shown.source],
      ['mfa', hasMfa(claims) ? 'yes' : 'no'],
      ['groups', shown.groups.join(', ') || '-'],
      ...(acrs.length ? ([['contexts', shown.acrs.join(', ')]] as [string, string][]) : []),
      ['expires', until(expiresAt)],
    ];
    ctx.out.line(`${paint(ctx.out.color, 'bold', printable(claims.sub))}${name.length ? `  ${name.join(' ')}` : ''}`);
    for (const [k, val] of rows) ctx.out.line(`  ${k.padEnd(8)}  ${val}`);
    return EXIT.ok;
  },
};
