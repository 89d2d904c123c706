import { expect, it } from "vitest";
import { fakeDependency, memoryTelemetry } from "../tests/helpers.js";
import { createIntegrationEnvironment } from "./environment.js";

const localEnv = { INTEGRATION_MODE: "local" };

it("local mode uses a dependency's local variant when it has one", async () => {
  const { dependency, calls } = fakeDependency();
  const withLocal = {
    ...dependency,
    async local() {
      calls.push("local");
      return {
        client: { implementation: "engine" },
        implementation: "engine",
        target: "x",
        reset: async () => {},
        close: async () => {},
      };
    },
  };
  const env = await createIntegrationEnvironment({
    service: "svc",
    dependencies: { a: withLocal },
    env: localEnv,
    telemetry: memoryTelemetry(),
  });
  expect(env.mode).toBe("local");
  expect(env.clients.a.implementation).toBe("engine");
  expect(calls).toEqual(["local"]);
  await env.close();
});

it("local mode falls back to the double and never connects live", async () => {
  const { dependency, calls } = fakeDependency({ variables: ["UNSET_URL"] });
  const env = await createIntegrationEnvironment({
    service: "svc",
    dependencies: { a: dependency },
    env: localEnv,
    telemetry: memoryTelemetry(),
  });
  expect(env.clients.a.implementation).toBe("fake-double");
  expect(calls).toEqual(["double"]);
  await env.close();
});
