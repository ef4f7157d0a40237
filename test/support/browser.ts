/**
 * The browser tier's harness: a real Chromium driven by playwright-core (Debian's `chromium` package by default,
 * or the browser at CHROMIUM_PATH), one isolated context per person, and the console's own sign-in at the local
 * issuer (the development sign-in page), as a person signs in.
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `the browser tier needs Chromium at ${CHROMIUM_PATH}: install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export interface Person {
  sub: string;
  groups?: string[];
  mfa?: boolean;
}

/** Everything the pages of a context logged to the console and every URL they asked for (no token may appear). */
export interface Traces {
  logs: string[];
  urls: string[];
}

/** A fresh browser context for one person, signed in through the console's sign-in; lands on `path`. */
export async function signIn(
  browser: Browser,
  baseUrl: string,
  person: Person,
  path = '/',
  traces?: Traces,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: baseUrl });
  context.setDefaultTimeout(60_000);
  const page = await context.newPage();
  if (traces) {
    page.on('console', (m) => traces.logs.push(m.text()));
    page.on('request', (r) => traces.urls.push(r.url()));
  }
  await page.goto(path);
  await page.getByLabel('Username').fill(person.sub);
  await page.getByLabel('Email').fill(`${person.sub}@example.com`);
  await page.getByLabel('Groups').fill((person.groups ?? []).join(','));
  if (person.mfa ?? true) await page.getByLabel('MFA').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return { context, page };
}
