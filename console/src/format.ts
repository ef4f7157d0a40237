/** Small formatting helpers of the console's pages (no rule of the service lives here). */

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

export const formatDate = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');
