import { HttpResponse, http as route } from "msw";
import { describe, expect, it } from "vitest";
import { caught, memoryTelemetry } from "../../tests/helpers.js";
import { createIntegrationEnvironment } from "../environment.js";
import { isTestSupportError } from "../errors.js";
import { http } from "./http.js";

const open = (handlers = [route.get("*/v1/models", () => HttpResponse.json({ data: [{ id: "m1" }] }))]) =>
  createIntegrationEnvironment({
    service: "svc",
    dependencies: { llm: http({ baseUrlEnv: "LLM_BASE_URL", handlers }) },
    env: { INTEGRATION_MODE: "repo" },
    telemetry: memoryTelemetry(),
  });

describe("http dependency in repo mode", () => {
  it("answers from its handlers through its own fetch", async () => {
    await using env = await open();
    const response = await env.clients.llm.fetch("/v1/models");
    expect(await response.json()).toEqual({ data: [{ id: "m1" }] });
  });

  it("fails a request nobody handles, with its method and URL, and remembers it until reset", async () => {
    await using env = await open();
    const error = await caught(() =>
      env.clients.llm.fetch("/v1/chat/completions", { method: "POST", body: "{}" }),
    );
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain(
      'no handler for POST http://llm.upstream.test/v1/chat/completions on the "llm" upstream',
    );
    expect(env.clients.llm.unhandled).toEqual(["POST http://llm.upstream.test/v1/chat/completions"]);
    await env.reset();
    expect(env.clients.llm.unhandled).toEqual([]);
  });

  it("lets a test override a handler until the next reset", async () => {
    await using env = await open();
    env.clients.llm.use(
      route.get("*/v1/models", () => HttpResponse.json({ error: "down" }, { status: 503 })),
    );
    expect((await env.clients.llm.fetch("/v1/models")).status).toBe(503);
    await env.reset();
    expect((await env.clients.llm.fetch("/v1/models")).status).toBe(200);
  });

  it("keeps environments apart: nothing is patched globally", async () => {
    await using a = await open();
    await using b = await open([]);
    expect((await a.clients.llm.fetch("/v1/models")).status).toBe(200);
    await expect(b.clients.llm.fetch("/v1/models")).rejects.toThrow(/no handler/);
  });
});

it("needs an upper-case baseUrlEnv", () => {
  expect(() => http({ baseUrlEnv: "llm" })).toThrow(/needs baseUrlEnv/);
});
