/** The console's frame: the top bar (who is signed in, Sign out), the navigation, and the page of the address. */
import AppLayout from '@cloudscape-design/components/app-layout';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Header from '@cloudscape-design/components/header';
import SideNavigation, { type SideNavigationProps } from '@cloudscape-design/components/side-navigation';
import Spinner from '@cloudscape-design/components/spinner';
import TopNavigation from '@cloudscape-design/components/top-navigation';
import { Suspense, useEffect, useMemo, useRef, useState } from 'react';
import type { Api } from '../api.ts';
import type { Auth, Session } from '../auth.ts';
import { type Authority, type ConsoleContext, ConsoleProvider } from './context.tsx';
import { allowed, NAV, needText, ROUTES } from './routes.ts';

interface AppProps {
  api: Api;
  auth: Auth;
  session: Session;
  authority: Authority;
}

function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const [navigate] = useState(() => (to: string) => {
    history.pushState(null, '', to);
    setPath(new URL(to, location.origin).pathname);
  });
  return [path, navigate];
}

export function App({ api, auth, session, authority }: AppProps) {
  const [path, navigate] = usePath();
  const [announcement, setAnnouncement] = useState('');
  const [signedOut, setSignedOut] = useState(false);
  const [navigationOpen, setNavigationOpen] = useState(true);
  const heading = useRef<HTMLDivElement>(null);
  const shown = useRef(path);

  const ctx = useMemo<ConsoleContext>(
    () => ({ api, auth, session, authority, navigate, announce: setAnnouncement }),
    [api, auth, session, authority, navigate],
  );
  const route = ROUTES.find((r) => r.pattern.test(path));
  const title = !route ? 'Page not found' : allowed(route.need, authority) ? route.title : 'Not allowed';
  useEffect(() => {
    document.title = `${title} · Elevate`;
    // A new page takes the focus to its heading (as a screen reader expects after following a link).
    if (shown.current !== path) heading.current?.focus();
    shown.current = path;
  }, [title, path]);

  if (signedOut) {
    return (
      <main>
        <h1>Signed out</h1>
        <a href="/">Sign in again</a>
      </main>
    );
  }

  const items: SideNavigationProps.Item[] = NAV.filter((n) => allowed(n.need, authority)).map((n) => ({
    type: 'link',
    text: n.label,
    href: n.href,
  }));
  let content: React.ReactNode;
  if (!route) content = <p>There is no page at this address.</p>;
  else if (!allowed(route.need, authority)) content = <p>{needText(route.need)}</p>;
  else {
    const Page = route.page;
    content = (
      <Suspense fallback={<Spinner size="large" />}>
        <Page key={path} params={(route.pattern.exec(path) ?? []).slice(1)} />
      </Suspense>
    );
  }

  return (
    <ConsoleProvider value={ctx}>
      <div id="top-nav">
        <TopNavigation
          identity={{ href: '/', title: 'Elevate', onFollow: follow(navigate) }}
          utilities={[
            {
              type: 'button',
              text: session.name,
              iconName: 'user-profile',
              ariaLabel: `Signed in as ${session.name}`,
              href: '/',
              onClick: (event) => {
                event.preventDefault();
                navigate('/');
              },
            },
            {
              type: 'button',
              text: 'Sign out',
              disableUtilityCollapse: true,
              onClick: () => {
                void auth.signOut().then(() => setSignedOut(true));
              },
            },
          ]}
        />
      </div>
      <AppLayout
        headerSelector="#top-nav"
        toolsHide
        ariaLabels={{ navigation: 'Main', navigationClose: 'Close navigation', navigationToggle: 'Open navigation' }}
        navigationOpen={navigationOpen}
        onNavigationChange={({ detail }) => setNavigationOpen(detail.open)}
        navigation={<SideNavigation activeHref={path} items={items} onFollow={follow(navigate)} />}
        content={
          <ContentLayout
            header={
              <div ref={heading} tabIndex={-1}>
                <Header variant="h1">{title}</Header>
              </div>
            }
          >
            {content}
          </ContentLayout>
        }
      />
      <div role="status" className="visually-hidden">
        {announcement}
      </div>
    </ConsoleProvider>
  );
}

/** A link followed inside the app (no reload), unless the person asked for a new tab or window. */
export const follow =
  (navigate: (path: string) => void) =>
  (event: CustomEvent<{ href?: string; external?: boolean }> & { detail: { href?: string } }) => {
    const href = event.detail.href;
    if (!href || event.detail.external) return;
    event.preventDefault();
    navigate(href);
  };
