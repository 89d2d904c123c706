/**
 * A library a dependency kind loads on first use instead of at import, so a suite pays only for the
 * kinds it builds. `load()` imports it once (every caller shares the promise); `get()` hands it to
 * synchronous code that only runs after a `load()` of the same kind has finished.
 */
export interface LazyModule<T> {
  load(): Promise<T>;
  get(): T;
}

export function lazyModule<T>(name: string, importer: () => Promise<T>): LazyModule<T> {
  let pending: Promise<T> | undefined;
  let loaded: T | undefined;
  return {
    load() {
      pending ??= importer().then((module) => {
        loaded = module;
        return module;
      });
      return pending;
    },
    get() {
      // A programming error in test-support itself, not a user's: a code path skipped its load().
      if (loaded === undefined) throw new Error(`[test-support] ${name} was used before it was loaded`);
      return loaded;
    },
  };
}
