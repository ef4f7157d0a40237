/**
 * Sign-in: OpenID Connect authorization code with PKCE (S256) against the configured issuer, through oidc-client-ts.
 * The user (and its access token) is kept in sessionStorage (this tab only, gone when it closes), the token is sent
 * only in the Authorization header, never put in a URL or logged; the code and state leave the address bar at once.
 * A step-up sign-in (`stepUp`) asks the issuer for a fresh sign-in with MFA (prompt=login, max_age=0 and the
 * configured acr_values), for a policy that needs the approver's MFA.
 */
import { type User, UserManager, WebStorageStateStore } from 'oidc-client-ts';

export interface ConsoleConfig {
  /** The API's base URL ('' for the console's own origin). */
  apiUrl: string;
  /** The OIDC issuer; its discovery document names the endpoints unless these two are given. */
  issuer: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  clientId: string;
  /** Scopes to ask for (space-separated). */
  scope: string;
}

export interface Session {
  token: string;
  sub: string;
  name: string;
  mfa: boolean;
  expiresAt: number;
}

export const CALLBACK_PATH = '/callback';

interface ReturnState {
  returnTo: string;
}

function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
}

/** What the console reads of the access token (the API checks it; this only shows and gates the UI). */
export function sessionOf(token: string): Session {
  const claims = decodeClaims(token);
  const sub = String(claims.sub ?? '');
  return {
    token,
    sub,
    name: typeof claims.name === 'string' ? claims.name : sub,
    mfa: Array.isArray(claims.amr) && claims.amr.includes('mfa'),
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : 0,
  };
}

const safeReturn = (to: unknown): string =>
  typeof to === 'string' && to.startsWith('/') && !to.startsWith('//') ? to : '/';

export interface Auth {
  /** Reads the sign-in kept in this tab (at boot); the session, unless there is none or it expired. */
  load(): Promise<Session | undefined>;
  /** The signed-in session, unless there is none or it expired. */
  session(): Session | undefined;
  /** Go to the issuer's sign-in; `returnTo` is where the console lands afterwards. */
  signIn(returnTo: string): Promise<void>;
  /** A fresh sign-in with MFA (approver step-up), landing back on `returnTo`. */
  stepUp(returnTo: string): Promise<void>;
  /** The callback: trade the code for a token; answers the path to land on. */
  completeSignIn(): Promise<string>;
  signOut(): Promise<void>;
}

export function createAuth(config: ConsoleConfig, origin = location.origin): Auth {
  const store = new WebStorageStateStore({ store: sessionStorage });
  const manager = new UserManager({
    authority: config.issuer,
    client_id: config.clientId,
    redirect_uri: `${origin}${CALLBACK_PATH}`,
    response_type: 'code',
    scope: config.scope,
    userStore: store,
    stateStore: store,
    loadUserInfo: false,
    automaticSilentRenew: false,
    monitorSession: false,
    ...(config.authorizationEndpoint &&
      config.tokenEndpoint && {
        metadata: {
          issuer: config.issuer,
          authorization_endpoint: new URL(config.authorizationEndpoint, origin).toString(),
          token_endpoint: new URL(config.tokenEndpoint, origin).toString(),
        },
      }),
  });
  let current: Session | undefined;
  const remember = (user: User | null): Session | undefined => {
    current = undefined;
    if (!user || user.expired || !user.access_token) return undefined;
    try {
      current = sessionOf(user.access_token);
    } catch {
      // not a JWT: sign in again
    }
    return current;
  };
  const session = () => (current && current.expiresAt > Date.now() ? current : undefined);
  return {
    load: async () => {
      remember(await manager.getUser());
      return session();
    },
    session,
    signIn: (returnTo) => manager.signinRedirect({ state: { returnTo } satisfies ReturnState }),
    stepUp: (returnTo) =>
      manager.signinRedirect({
        state: { returnTo } satisfies ReturnState,
        prompt: 'login',
        max_age: 0,
        acr_values: 'mfa',
      }),
    async completeSignIn() {
      const url = location.href;
      // The code leaves the address bar (and the history) before anything else happens.
      history.replaceState(null, '', CALLBACK_PATH);
      const user = await manager.signinRedirectCallback(url);
      remember(user);
      return safeReturn((user.state as ReturnState | undefined)?.returnTo);
    },
    async signOut() {
      current = undefined;
      await manager.removeUser();
    },
  };
}
