/** What every page gets: the API, who is signed in and what they may do, navigation and the live region. */
import { createContext, useContext, useEffect, useRef, useState } from 'react';
import { type Api, ApiProblem } from '../api.ts';
import type { Auth, Session } from '../auth.ts';

export interface Authority {
  admin: boolean;
  auditor: boolean;
}

export interface ConsoleContext {
  api: Api;
  auth: Auth;
  session: Session;
  authority: Authority;
  navigate(path: string): void;
  /** Says a short outcome in the polite live region ("Request sent"). */
  announce(message: string): void;
}

const Context = createContext<ConsoleContext | undefined>(undefined);
export const ConsoleProvider = Context.Provider;

export function useConsole(): ConsoleContext {
  const ctx = useContext(Context);
  if (!ctx) throw new Error('useConsole outside the console');
  return ctx;
}

/** How often pages read their data again, so a change made elsewhere shows without a reload. */
export const POLL_MS = 3000;

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): Promise<void>;
}

/**
 * Reads `load` now and every `POLL_MS` while the page is shown (pages poll: an approval made elsewhere shows
 * without a reload); `reload` reads at once (after a change, or when the page's filters change). A failed read
 * keeps the last data and shows the error. Each page is mounted afresh for its path, so `load` is read by reference.
 */
export function usePolled<T>(load: () => Promise<T>, poll = true): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const latest = useRef(load);
  latest.current = load;
  const generation = useRef(0);
  const [reload] = useState(() => async () => {
    const mine = ++generation.current;
    try {
      const value = await latest.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
    } catch (e) {
      if (mine === generation.current) setError(e);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  });
  useEffect(() => {
    void reload();
    if (!poll) return;
    const timer = window.setInterval(() => void reload(), POLL_MS);
    return () => {
      window.clearInterval(timer);
      generation.current++;
    };
  }, [reload, poll]);
  return { data, error, loading, reload };
}

/** An error as a person reads it: the API's detail and code, or the error's message. */
export const describeError = (error: unknown): string =>
  error instanceof ApiProblem
    ? `${error.detail} (${error.code})`
    : error instanceof Error
      ? error.message
      : String(error);
