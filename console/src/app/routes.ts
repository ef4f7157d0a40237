/**
 * The console's fixed paths (deep links from mail; console/hosting.ts answers index.html for each) and who may open
 * each page. Pages other than "My roles" are loaded on first use (`lazy`), so the first page loads only what it shows.
 */
import { type ComponentType, lazy } from 'react';
import MyRoles from '../pages/my-roles.tsx';
import { ADMIN_ROUTES } from './admin-routes.ts';
import type { Authority } from './context.tsx';

export type Need = 'everyone' | 'admin' | 'reader';

export interface PageProps {
  /** The path's parameters (e.g. a request's id). */
  params: string[];
}

export interface Route {
  pattern: RegExp;
  title: string;
  need: Need;
  page: ComponentType<PageProps>;
}

export const ROUTES: Route[] = [
  { pattern: /^\/$/, title: 'My roles', need: 'everyone', page: MyRoles },
  {
    pattern: /^\/requests$/,
    title: 'My requests',
    need: 'everyone',
    page: lazy(() => import('../pages/my-requests.tsx')),
  },
  {
    pattern: /^\/requests\/([A-Za-z0-9_-]+)$/,
    title: 'Request',
    need: 'everyone',
    page: lazy(() => import('../pages/request.tsx')),
  },
  {
    pattern: /^\/approvals$/,
    title: 'Approvals',
    need: 'everyone',
    page: lazy(() => import('../pages/approvals.tsx')),
  },
  {
    pattern: /^\/reviews$/,
    title: 'Access reviews',
    need: 'everyone',
    page: lazy(() => import('../pages/reviews.tsx')),
  },
  { pattern: /^\/admin\/roles$/, title: 'Roles', need: 'admin', page: lazy(() => import('../pages/roles.tsx')) },
  {
    pattern: /^\/admin\/roles\/([a-z0-9-]+)$/,
    title: 'Role',
    need: 'admin',
    page: lazy(() => import('../pages/role.tsx')),
  },
  ...ADMIN_ROUTES,
];

export const NAV: { href: string; label: string; need: Need }[] = [
  { href: '/', label: 'My roles', need: 'everyone' },
  { href: '/requests', label: 'My requests', need: 'everyone' },
  { href: '/approvals', label: 'Approvals', need: 'everyone' },
  { href: '/reviews', label: 'Access reviews', need: 'everyone' },
  { href: '/admin/roles', label: 'Roles', need: 'admin' },
  { href: '/admin/assignments', label: 'Assignments', need: 'admin' },
  { href: '/admin/groups', label: 'Groups', need: 'admin' },
  { href: '/admin/alerts', label: 'Alerts', need: 'admin' },
  { href: '/audit', label: 'Audit', need: 'reader' },
];

export const allowed = (need: Need, a: Authority): boolean =>
  need === 'everyone' || (need === 'admin' ? a.admin : a.admin || a.auditor);

export const needText = (need: Need): string =>
  need === 'admin'
    ? 'This page is for administrators: it needs an active elevate-admin assignment.'
    : 'This page is for administrators and auditors: it needs an active elevate-admin or elevate-auditor assignment.';
