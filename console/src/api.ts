/** The HTTP API with the signed-in user's token: JSON in and out, problems (RFC 9457) as ApiProblem. */
import type { Session } from './auth.ts';

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ApiProblem';
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export function apiClient(baseUrl: string, session: () => Session | undefined, onUnauthenticated: () => void): Api {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const current = session();
    if (!current) {
      onUnauthenticated();
      throw new ApiProblem(401, 'Unauthenticated', 'Your session ended: sign in again.');
    }
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${current.token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (res.status === 401) onUnauthenticated();
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const problem = (parsed ?? {}) as { code?: string; detail?: string; title?: string };
      throw new ApiProblem(res.status, problem.code ?? 'Error', problem.detail ?? problem.title ?? res.statusText);
    }
    return parsed as T;
  };
  return {
    get: (path) => call('GET', path),
    send: (method, path, body) => call(method, path, body),
  };
}
