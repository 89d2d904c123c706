import type { RequestHandler } from "msw";
import type { Dependency, DependencyContext, DependencyHandle } from "../dependency.js";
import { TestSupportError } from "../errors.js";
import { redactTarget } from "../redact.js";
import { tracedDependency } from "../trace/dependency.js";
import { readUrlVariable } from "../variables.js";

/** An HTTP upstream as a suite and the code under test see it: a base URL and a fetch bound to it. */
export interface HttpUpstream {
  /** The upstream's base URL (a placeholder host in repo/local; the real one in cluster). */
  readonly baseUrl: string;
  /** fetch for this upstream: relative URLs resolve against baseUrl. Hand it to the code under test. */
  readonly fetch: typeof fetch;
  /** Repo/local: handlers that take precedence until the next reset (MSW's `use`). Throws in cluster. */
  use(...handlers: RequestHandler[]): void;
  /** Requests nobody answered since the last reset (repo/local). */
  readonly unhandled: readonly string[];
}

/** Options of the http dependency. */
export interface HttpOptions {
  /** The variable holding the upstream's base URL in cluster mode, e.g. "LLM_BASE_URL". */
  baseUrlEnv: string;
  /** MSW handlers that answer in repo/local, written against `baseUrl` or as path patterns. */
  handlers?: RequestHandler[];
}

const resolveUrl = (input: string | URL | Request, baseUrl: string) =>
  input instanceof Request ? input : new Request(new URL(String(input), baseUrl));

/**
 * A generic HTTP upstream. repo/local: MSW handlers answer in-process through the upstream's own fetch
 * (nothing global is patched, so environments never see each other's handlers), and a request nobody
 * handles fails with its method and URL. cluster: real fetch against the URL in `baseUrlEnv`.
 */
export function http(options: HttpOptions): Dependency<HttpUpstream> {
  if (typeof options?.baseUrlEnv !== "string" || !/^[A-Z][A-Z0-9_]*$/.test(options.baseUrlEnv)) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `http() needs baseUrlEnv, an upper-case variable name (e.g. "LLM_BASE_URL"); got ${JSON.stringify(options?.baseUrlEnv)}.`,
    );
  }
  const initial = options.handlers ?? [];
  return tracedDependency({
    kind: "http",
    variables: [options.baseUrlEnv],
    describeTarget: (env) => redactTarget(env[options.baseUrlEnv] ?? ""),
    async double(context: DependencyContext): Promise<DependencyHandle<HttpUpstream>> {
      const baseUrl = `http://${context.name.toLowerCase()}.upstream.test`;
      let extra: RequestHandler[] = [];
      const unhandled: string[] = [];
      const upstreamFetch = (async (input: string | URL | Request, init?: RequestInit) => {
        const request = new Request(resolveUrl(input, baseUrl), init);
        // msw loads when a suite first sends a request, never at import.
        const { getResponse } = await import("msw");
        const response = await getResponse([...extra, ...initial], request);
        if (response) return response;
        const call = `${request.method} ${request.url}`;
        unhandled.push(call);
        // Never an empty success: an unprogrammed request fails with what it was.
        throw new TestSupportError(
          "INVALID_OPTIONS",
          `no handler for ${call} on the "${context.name}" upstream; add one to http({ handlers }) or upstream.use(...).`,
        );
      }) as typeof fetch;
      return {
        client: {
          baseUrl,
          fetch: upstreamFetch,
          use: (...handlers) => {
            extra = [...handlers, ...extra];
          },
          get unhandled() {
            return [...unhandled];
          },
        },
        implementation: "msw",
        target: "in-process",
        async reset() {
          extra = [];
          unhandled.length = 0;
        },
        async close() {},
      };
    },
    async live(context: DependencyContext): Promise<DependencyHandle<HttpUpstream>> {
      const url = readUrlVariable(
        context.env,
        options.baseUrlEnv,
        "http",
        ["http:", "https:"],
        "http://host:port",
      );
      const baseUrl = url.toString();
      const client: HttpUpstream = {
        baseUrl,
        fetch: ((input: string | URL | Request, init?: RequestInit) =>
          fetch(resolveUrl(input, baseUrl), init)) as typeof fetch,
        use: () => {
          throw new TestSupportError(
            "INVALID_OPTIONS",
            `upstream "${context.name}" is the real ${redactTarget(baseUrl)} in cluster mode; handlers only exist in repo/local.`,
          );
        },
        unhandled: [],
      };
      return {
        client,
        implementation: "fetch",
        target: redactTarget(baseUrl),
        reset: async () => {},
        close: async () => {},
      };
    },
  });
}
