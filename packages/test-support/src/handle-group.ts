import type { Dependency, DependencyContext, DependencyHandle } from "./dependency.js";

/**
 * The handles of a dependency built from other dependencies (a service's double on its own doubles):
 * opened in order, reset together, closed in reverse order, and closed at once if set-up fails midway.
 */
export class HandleGroup {
  private readonly handles: DependencyHandle<unknown>[] = [];

  /** Awaits a part's handle and adds it to the group. */
  async open<T>(handle: Promise<DependencyHandle<T>>): Promise<DependencyHandle<T>> {
    const opened = await handle;
    this.handles.push(opened as DependencyHandle<unknown>);
    return opened;
  }

  /**
   * Builds a part of a service that runs in-process: on the run's real engines in local mode (the part's
   * `local`, when it has one), else its double; and adds it to the group.
   */
  part<T>(dependency: Dependency<T>, context: DependencyContext): Promise<DependencyHandle<T>> {
    const build =
      context.mode === "local" && dependency.local ? dependency.local(context) : dependency.double(context);
    return this.open(build);
  }

  async reset(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.reset()));
  }

  /** Closes every part, last opened first; a part that fails to close does not keep the others open. */
  async close(): Promise<void> {
    for (const handle of [...this.handles].reverse()) await handle.close().catch(() => {});
  }

  /** Runs a set-up over the group; if it throws, closes what was opened and rethrows. */
  async build<R>(setUp: (group: HandleGroup) => Promise<R>): Promise<R> {
    try {
      return await setUp(this);
    } catch (error) {
      await this.close();
      throw error;
    }
  }
}
