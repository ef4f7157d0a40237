/**
 * The user's config and token cache: `$XDG_CONFIG_HOME/elevate` (or `~/.config/elevate`).
 * - config.json: `{ api, issuer, clientId, oidcScope }` defaults, written by `elevate login`;
 * - credentials.json (mode 0600, folder 0700): per API URL, the tokens `elevate login` obtained.
 * Files are replaced atomically (write to a temp file, rename), so two CLIs never read half a file.
 */
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.ts';

export interface Settings {
  api?: string;
  issuer?: string;
  clientId?: string;
  oidcScope?: string;
}

export interface OidcCredentials {
  source: 'oidc';
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** ISO time the access token expires (from expires_in or the JWT's exp). */
  expiresAt?: string;
  issuer: string;
  clientId: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
}

export interface LocalCredentials {
  source: 'local';
  accessToken: string;
  expiresAt?: string;
  /** What was asked of POST /_local/token, to ask again once the token has expired. */
  options: Record<string, unknown>;
}

export type Credentials = OidcCredentials | LocalCredentials;

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'elevate');
}

/** The API URL without a trailing slash. */
export const normalizeUrl = (url: string): string => url.replace(/\/+$/, '');

async function readJson<T>(path: string, fallback: T): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`${path} is not valid JSON: fix or delete it`);
  }
}

async function writeJson(dir: string, name: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

export class Store {
  constructor(readonly dir: string) {}

  readSettings(): Promise<Settings> {
    return readJson<Settings>(join(this.dir, 'config.json'), {});
  }

  async updateSettings(change: Settings): Promise<void> {
    const current = await this.readSettings();
    await writeJson(this.dir, 'config.json', { ...current, ...change });
  }

  private readAll(): Promise<Record<string, Credentials>> {
    return readJson<Record<string, Credentials>>(join(this.dir, 'credentials.json'), {});
  }

  async credentials(api: string): Promise<Credentials | undefined> {
    return (await this.readAll())[normalizeUrl(api)];
  }

  async saveCredentials(api: string, credentials: Credentials): Promise<void> {
    const all = await this.readAll();
    all[normalizeUrl(api)] = credentials;
    await writeJson(this.dir, 'credentials.json', all);
  }

  /** Forget the credentials of one API (or all). Returns whether there were any. */
  async forget(api: string | undefined): Promise<boolean> {
    const all = await this.readAll();
    if (api === undefined) {
      const had = Object.keys(all).length > 0;
      await rm(join(this.dir, 'credentials.json'), { force: true });
      return had;
    }
    const key = normalizeUrl(api);
    if (!(key in all)) return false;
    delete all[key];
    await writeJson(this.dir, 'credentials.json', all);
    return true;
  }
}

/** The claims of a JWT, unverified (for display and expiry only; the API verifies). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The token's expiry: expires_in when the issuer said, else the JWT's exp. */
export function expiryOf(token: string, expiresIn?: number, now = Date.now()): string | undefined {
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn))
    return new Date(now + expiresIn * 1000).toISOString();
  const exp = jwtClaims(token)?.exp;
  return typeof exp === 'number' ? new Date(exp * 1000).toISOString() : undefined;
}
