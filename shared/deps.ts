import { type Clock, clock } from './clock.ts';
import { type Config, configFromEnv } from './config.ts';
import { Store } from './store/store.ts';

/** What a use case needs from the outside world: the ports, built once per process. */
export interface Deps {
  store: Store;
  clock: Clock;
  config: Config;
}

const built = new Map<string, Deps>();

/** Follows whichever clock the process uses now (the local runtime may install a manual one later). */
const processClock: Clock = { now: () => clock().now() };

/** Ports from the environment, cached per table (Lambda: one; local tests: one per test table). */
export function depsFromEnv(): Deps {
  const config = configFromEnv();
  let deps = built.get(config.tableName);
  if (!deps) {
    deps = { store: Store.fromEnv(config.tableName), clock: processClock, config };
    built.set(config.tableName, deps);
  }
  return deps;
}
