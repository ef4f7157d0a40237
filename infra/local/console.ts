/**
 * The web console on the local runtime, at `/` (console/): built on first use (esbuild, in memory, a fraction of a
 * second), served for its fixed paths with `config.json` naming this runtime as API and issuer. Every answer
 * carries the headers the deployed console has: a Content-Security-Policy that allows no inline script and no
 * other origin, nosniff, no referrer, no framing.
 */
import type { ConsoleFile } from '../../console/build.ts';
import { APP_PATH, contentSecurityPolicy, isAssetPath } from '../../console/hosting.ts';
import type { HttpResult } from './http-event.ts';
import { LOCAL_ISSUER } from './issuer.ts';
import { AUTHORIZE_PATH, CONSOLE_CLIENT_ID, TOKEN_PATH } from './oidc.ts';

export const CONSOLE_HEADERS = {
  // The API and the issuer are this runtime: the console's own origin.
  'content-security-policy': contentSecurityPolicy([]),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

let built: Promise<Map<string, ConsoleFile>> | undefined;
const files = (): Promise<Map<string, ConsoleFile>> => {
  built ??= import('../../console/build.ts').then((m) => m.buildConsole());
  built.catch(() => {
    built = undefined;
  });
  return built;
};

/** Whether a GET is the console's (so the API's 404 stays for everything else). */
export const isConsolePath = (method: string, path: string): boolean =>
  (method === 'GET' || method === 'HEAD') && (APP_PATH.test(path) || path === '/config.json' || isAssetPath(path));

export async function serveConsole(path: string): Promise<HttpResult> {
  if (path === '/config.json') {
    const config = {
      apiUrl: '',
      issuer: LOCAL_ISSUER,
      authorizationEndpoint: AUTHORIZE_PATH,
      tokenEndpoint: TOKEN_PATH,
      clientId: CONSOLE_CLIENT_ID,
      scope: 'openid elevate/api',
    };
    return {
      status: 200,
      headers: { ...CONSOLE_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: Buffer.from(JSON.stringify(config)),
    };
  }
  const file = (await files()).get(APP_PATH.test(path) ? '/index.html' : path) as ConsoleFile;
  return {
    status: 200,
    headers: { ...CONSOLE_HEADERS, 'content-type': file.contentType, 'cache-control': 'no-cache' },
    body: file.body,
  };
}
