/**
 * Elevate's web console: a single-page app (React, Cloudscape) over the public HTTP API. Paths are fixed (deep links
 * from mail, app/routes.ts); `/callback` ends a sign-in.
 */
import '@cloudscape-design/global-styles/index.css';
import './app.css';
import { createRoot } from 'react-dom/client';
import { type Api, apiClient, type Page } from './api.ts';
import { App } from './app/App.tsx';
import type { Authority } from './app/context.tsx';
import { CALLBACK_PATH, type ConsoleConfig, createAuth } from './auth.ts';
import type { AssignmentView } from './types.ts';

/** The caller's built-in authority: an active elevate-admin / elevate-auditor assignment at `/`. */
async function authorityOf(api: Api): Promise<Authority> {
  const page = await api.get<Page<AssignmentView>>('/v1/me/assignments?limit=200');
  const holds = (roleId: string) =>
    page.items.some(
      (a) => a.roleId === roleId && a.assignmentType === 'active' && a.status === 'Active' && a.scope === '/',
    );
  return { admin: holds('elevate-admin'), auditor: holds('elevate-auditor') };
}

function failed(root: HTMLElement, title: string, error: unknown): void {
  const main = document.createElement('main');
  const h1 = document.createElement('h1');
  h1.textContent = title;
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.textContent = error instanceof Error ? error.message : String(error);
  const again = document.createElement('a');
  again.href = '/';
  again.textContent = 'Try again';
  main.append(h1, p, again);
  root.replaceChildren(main);
}

async function boot(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement;
  const config = (await (await fetch('/config.json')).json()) as ConsoleConfig;
  const auth = createAuth(config);
  if (location.pathname === CALLBACK_PATH) {
    try {
      history.replaceState(null, '', await auth.completeSignIn());
    } catch (error) {
      failed(root, 'Sign-in failed', error);
      return;
    }
  }
  const session = auth.session() ?? (await auth.load());
  if (!session) {
    await auth.signIn(location.pathname + location.search);
    return;
  }
  const api = apiClient(config.apiUrl, auth.session, () => void auth.signIn(location.pathname));
  const authority = await authorityOf(api);
  createRoot(root).render(<App api={api} auth={auth} session={session} authority={authority} />);
}

void boot();
