/**
 * Elevate's web console: a single-page app over the public HTTP API. Paths are fixed (deep links from mail):
 * `/`, `/requests`, `/requests/{id}`, `/approvals`, `/reviews`, `/admin/roles`, `/admin/roles/{id}`,
 * `/admin/assignments`, `/admin/groups`, `/admin/alerts`, `/audit`; `/callback` ends a sign-in.
 */
import { type Page as ApiPage, apiClient } from './api.ts';
import { CALLBACK_PATH, type ConsoleConfig, completeSignIn, currentSession, signIn, signOut } from './auth.ts';
import { type Authority, errorBox, type Page, type PageContext } from './context.ts';
import { fill, h } from './dom.ts';
import { adminRoles, roleDetail } from './pages/admin.ts';
import { approvals, reviews } from './pages/approvals.ts';
import { myRequests, myRoles, requestDetail } from './pages/me.ts';
import type { AssignmentView } from './types.ts';

type Need = 'everyone' | 'admin' | 'reader';
interface Route {
  pattern: RegExp;
  title: string;
  need: Need;
  page: Page;
}

const ROUTES: Route[] = [
  { pattern: /^\/$/, title: 'My roles', need: 'everyone', page: myRoles },
  { pattern: /^\/requests$/, title: 'My requests', need: 'everyone', page: myRequests },
  { pattern: /^\/requests\/([A-Za-z0-9_-]{1,64})$/, title: 'Request', need: 'everyone', page: requestDetail },
  { pattern: /^\/approvals$/, title: 'Approvals', need: 'everyone', page: approvals },
  { pattern: /^\/reviews$/, title: 'Access reviews', need: 'everyone', page: reviews },
  { pattern: /^\/admin\/roles$/, title: 'Roles', need: 'admin', page: adminRoles },
  { pattern: /^\/admin\/roles\/([a-z0-9-]{1,64})$/, title: 'Role', need: 'admin', page: roleDetail },
];

const NAV: { href: string; label: string; need: Need }[] = [
  { href: '/', label: 'My roles', need: 'everyone' },
  { href: '/requests', label: 'My requests', need: 'everyone' },
  { href: '/approvals', label: 'Approvals', need: 'everyone' },
  { href: '/reviews', label: 'Access reviews', need: 'everyone' },
  { href: '/admin/roles', label: 'Roles', need: 'admin' },
];

const allowed = (need: Need, a: Authority): boolean =>
  need === 'everyone' || (need === 'admin' ? a.admin : a.admin || a.auditor);

/** The caller's built-in authority: an active elevate-admin / elevate-auditor assignment at `/`. */
async function authorityOf(api: ReturnType<typeof apiClient>): Promise<Authority> {
  const page = await api.get<ApiPage<AssignmentView>>('/v1/me/assignments?limit=200');
  const holds = (roleId: string) =>
    page.items.some(
      (a) => a.roleId === roleId && a.assignmentType === 'active' && a.status === 'Active' && a.scope === '/',
    );
  return { admin: holds('elevate-admin'), auditor: holds('elevate-auditor') };
}

async function boot(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement;
  const config = (await (await fetch('/config.json')).json()) as ConsoleConfig;
  if (location.pathname === CALLBACK_PATH) {
    try {
      history.replaceState(null, '', await completeSignIn(config));
    } catch (error) {
      fill(root, h('main', {}, h('h1', {}, 'Sign-in failed'), errorBox(error), h('a', { href: '/' }, 'Try again')));
      return;
    }
  }
  const session = currentSession();
  if (!session) {
    await signIn(config, location.pathname + location.search);
    return;
  }
  const api = apiClient(config.apiUrl, currentSession, () => void signIn(config, location.pathname));
  const authority = await authorityOf(api);

  const status = h('div', { role: 'status', class: 'visually-hidden' });
  const heading = h('h1', { tabindex: -1 });
  const content = h('div');
  const main = h('main', { id: 'main' }, heading, content);
  const nav = h(
    'nav',
    { 'aria-label': 'Main' },
    h(
      'ul',
      {},
      ...NAV.filter((n) => allowed(n.need, authority)).map((n) =>
        h('li', {}, h('a', { href: n.href, 'data-nav': '' }, n.label)),
      ),
    ),
  );
  const signOutButton = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        signOut();
        fill(root, h('main', {}, h('h1', {}, 'Signed out'), h('a', { href: '/' }, 'Sign in again')));
      },
    },
    'Sign out',
  );
  fill(
    root,
    h('a', { href: '#main', class: 'skip' }, 'Skip to content'),
    h(
      'header',
      {},
      h('span', { class: 'brand' }, 'Elevate'),
      h('span', { class: 'who' }, `Signed in as ${session.name}`),
      signOutButton,
    ),
    nav,
    main,
    status,
  );

  let timers: number[] = [];
  let generation = 0;
  const render = async (focus: boolean) => {
    for (const t of timers) clearInterval(t);
    timers = [];
    const mine = ++generation;
    const path = location.pathname;
    for (const link of nav.querySelectorAll('a')) {
      if (link.getAttribute('href') === path) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    const route = ROUTES.find((r) => r.pattern.test(path));
    content.replaceChildren();
    if (!route) {
      heading.textContent = 'Page not found';
      fill(content, h('p', {}, 'There is no page at this address.'));
    } else if (!allowed(route.need, authority)) {
      heading.textContent = 'Not allowed';
      fill(
        content,
        h(
          'p',
          {},
          `This page is for ${route.need === 'admin' ? 'administrators' : 'administrators and auditors'}: it needs an active ${route.need === 'admin' ? 'elevate-admin' : 'elevate-admin or elevate-auditor'} assignment.`,
        ),
      );
    } else {
      heading.textContent = route.title;
      document.title = `${route.title} · Elevate`;
      const ctx: PageContext = {
        api,
        session,
        authority,
        main: content,
        navigate,
        announce: (message) => {
          status.textContent = message;
        },
        every: (ms, refresh) => {
          if (mine !== generation) return;
          timers.push(
            window.setInterval(() => {
              if (mine === generation) refresh().catch(() => undefined);
            }, ms),
          );
        },
      };
      try {
        await route.page(ctx, (route.pattern.exec(path) ?? []).slice(1));
      } catch (error) {
        if (mine === generation) content.replaceChildren(errorBox(error));
      }
    }
    if (focus) heading.focus();
  };
  const navigate = (path: string) => {
    history.pushState(null, '', path);
    void render(true);
  };
  document.addEventListener('click', (event) => {
    const link = (event.target as Element).closest('a[data-nav]');
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    navigate(link.getAttribute('href') ?? '/');
  });
  window.addEventListener('popstate', () => void render(true));
  await render(false);
}

void boot();
