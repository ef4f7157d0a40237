/**
 * The administrators' and auditors' pages of the Assignments, Groups, Alerts and Audit sections, each loaded on
 * first use (`lazy`). routes.ts joins them to the other pages.
 */
import { lazy } from 'react';
import type { Route } from './routes.ts';

export const ADMIN_ROUTES: Route[] = [
  {
    pattern: /^\/admin\/assignments$/,
    title: 'Assignments',
    need: 'admin',
    page: lazy(() => import('../pages/assignments.tsx')),
  },
  { pattern: /^\/admin\/groups$/, title: 'Groups', need: 'admin', page: lazy(() => import('../pages/groups.tsx')) },
  { pattern: /^\/admin\/alerts$/, title: 'Alerts', need: 'admin', page: lazy(() => import('../pages/alerts.tsx')) },
  { pattern: /^\/audit$/, title: 'Audit', need: 'reader', page: lazy(() => import('../pages/audit.tsx')) },
];
