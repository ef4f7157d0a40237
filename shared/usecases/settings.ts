import { defaultSettings, Settings } from '../domain/settings.ts';
import { keys, stored } from '../store/records.ts';
import type { Store } from '../store/store.ts';

/** The governance settings as stored (strongly consistent: a change of them takes effect at once), and their version. */
export async function readSettings(store: Store): Promise<{ settings: Settings; version: number | null }> {
  const item = await store.get(keys.settings());
  if (!item) return { settings: defaultSettings(), version: null };
  const record = stored.settings.fromItem(item);
  const parsed = Settings.safeParse(record.settings);
  // A stored value that no longer parses falls back to the safe defaults (MFA on), never to "off".
  return { settings: parsed.success ? parsed.data : defaultSettings(), version: record.version };
}
