/** What every page gets: the API, who is signed in and what they may do, and the page's own lifetime. */
import type { Api } from './api.ts';
import { ApiProblem } from './api.ts';
import type { Session } from './auth.ts';
import { h } from './dom.ts';

export interface Authority {
  admin: boolean;
  auditor: boolean;
}

export interface PageContext {
  api: Api;
  session: Session;
  authority: Authority;
  /** The page's region (its h1 is set by the router). */
  main: HTMLElement;
  navigate(path: string): void;
  /** Says a short outcome in the polite live region ("Request sent"). */
  announce(message: string): void;
  /** Runs `refresh` every `ms` while the page is shown (pages poll so state changes appear without a reload). */
  every(ms: number, refresh: () => Promise<void>): void;
}

export type Page = (ctx: PageContext, params: string[]) => Promise<void>;

/** An error shown where it happened, read out at once (role=alert). */
export function errorBox(error: unknown): HTMLElement {
  const detail = error instanceof ApiProblem ? `${error.detail} (${error.code})` : String(error);
  return h('p', { role: 'alert', class: 'error' }, detail);
}

/** Runs `action`, showing its failure in `slot`; true when it succeeded. */
export async function attempt(slot: HTMLElement, action: () => Promise<void>): Promise<boolean> {
  slot.replaceChildren();
  try {
    await action();
    return true;
  } catch (error) {
    slot.replaceChildren(errorBox(error));
    return false;
  }
}

/** Human time left until an ISO date ("2 h 5 min"), by the browser's clock. */
export function timeLeft(iso: string | null, now = Date.now()): string {
  if (!iso) return 'permanent';
  const ms = new Date(iso).getTime() - now;
  if (ms <= 0) return 'ended';
  const minutes = Math.round(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  return [days && `${days} d`, hours && `${hours} h`, `${rest} min`].filter(Boolean).join(' ');
}

/** An ISO 8601 duration as hours (PT8H → 8, P1D → 24, PT30M → 0.5); undefined for what it does not read. */
export function durationHours(iso: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) return undefined;
  return Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 60;
}

export const formatDate = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : '—');
