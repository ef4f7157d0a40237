/**
 * An AWS SDK client whose package is imported on first use. The Lambda bundles keep `@aws-sdk/*` external
 * (the runtime provides it), and a static import of an external is evaluated at cold start even when the
 * function never calls that service; a dynamic import is not. One client per process, as the SDK advises.
 */
export interface LazyClient<M, C> {
  get(): Promise<{ sdk: M; client: C }>;
  client(): Promise<C>;
}

export function lazyClient<M, C>(load: () => Promise<M>, make: (sdk: M) => C): LazyClient<M, C> {
  let loaded: Promise<{ sdk: M; client: C }> | undefined;
  const get = () => {
    loaded ??= load().then((sdk) => ({ sdk, client: make(sdk) }));
    return loaded;
  };
  return { get, client: async () => (await get()).client };
}
