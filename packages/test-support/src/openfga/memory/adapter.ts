import { Readable } from "node:stream";
import axios, { type AxiosAdapter, AxiosError, type AxiosInstance, type AxiosResponse } from "axios";
import type { InMemoryOpenFga } from "./server.js";

/** The base URL the SDK is pointed at; requests never leave the process. */
export const IN_MEMORY_API_URL = "http://openfga.in-memory";

/**
 * An axios instance whose adapter answers from the in-memory server: the real `@openfga/sdk` runs
 * unmodified on it, with no socket, port or process.
 */
export function createInMemoryAxios(server: InMemoryOpenFga): AxiosInstance {
  const adapter: AxiosAdapter = async (config) => {
    const url = new URL(config.url ?? "/", config.baseURL ?? IN_MEMORY_API_URL);
    for (const [key, value] of Object.entries((config.params ?? {}) as Record<string, unknown>)) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    let body: unknown;
    if (typeof config.data === "string" && config.data.length > 0) body = JSON.parse(config.data);
    else if (config.data && typeof config.data === "object") body = config.data;
    // Each call runs on a later tick, as a network call would, so callers cannot rely on synchronous answers.
    await new Promise((resolve) => setImmediate(resolve));
    const answer = server.handle(config.method ?? "get", url.pathname, url.searchParams, body);
    const data =
      answer.lines !== undefined
        ? config.responseType === "stream"
          ? Readable.from(answer.lines.map((line) => `${JSON.stringify(line)}\n`))
          : answer.lines.map((line) => JSON.stringify(line)).join("\n")
        : answer.body === undefined
          ? ""
          : answer.body;
    const response: AxiosResponse = {
      data,
      status: answer.status,
      statusText: String(answer.status),
      headers: { "content-type": answer.lines ? "application/x-ndjson" : "application/json" },
      config,
      request: { path: url.pathname },
    };
    if (answer.status >= 400) {
      throw new AxiosError(
        `Request failed with status code ${answer.status}`,
        answer.status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST,
        config,
        response.request,
        response,
      );
    }
    return response;
  };
  return axios.create({ adapter });
}
