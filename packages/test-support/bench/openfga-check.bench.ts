// Median latency of one check through the real SDK: the in-memory OpenFGA, and the mode's own client
// (the in-memory one again in repo mode, a real server in cluster mode), in one run.
import { OpenFgaClient } from "@openfga/sdk";
import { transformer } from "@openfga/syntax-transformer";
import { afterAll, beforeAll, bench, describe } from "vitest";
import { createIntegrationEnvironment, type IntegrationEnvironment, openfga } from "../src/index.js";
import { createInMemoryAxios, IN_MEMORY_API_URL } from "../src/openfga/memory/adapter.js";
import { InMemoryOpenFga } from "../src/openfga/memory/server.js";

const model = new URL("../tests/fixtures/authz.fga", import.meta.url);
const dependencies = { authz: openfga({ model }) };
const tuples = [
  { user: "user:ada", relation: "admin", object: "tenant:acme" },
  { user: "tenant:acme", relation: "tenant", object: "document:plan" },
  { user: "user:bob", relation: "member", object: "team:eng" },
  { user: "team:eng#member", relation: "editor", object: "document:plan" },
];
const question = { user: "user:bob", relation: "viewer", object: "document:plan" };

let env: IntegrationEnvironment<typeof dependencies>;
let memory: OpenFgaClient;

beforeAll(async () => {
  env = await createIntegrationEnvironment({ service: "test-support-bench", dependencies });
  await env.clients.authz.writeTuples(tuples);
  const axios = createInMemoryAxios(new InMemoryOpenFga()) as never;
  const { id } = await new OpenFgaClient({ apiUrl: IN_MEMORY_API_URL }, axios).createStore({ name: "bench" });
  memory = new OpenFgaClient({ apiUrl: IN_MEMORY_API_URL, storeId: id }, axios);
  const { readFileSync } = await import("node:fs");
  const json = transformer.transformDSLToJSONObject(readFileSync(model, "utf8")) as never;
  memory.authorizationModelId = (await memory.writeAuthorizationModel(json)).authorization_model_id;
  await memory.writeTuples(tuples);
});
afterAll(() => env.close());

describe("openfga check (team member -> editor -> viewer)", () => {
  bench("in-memory OpenFGA", async () => {
    if (!(await memory.check(question)).allowed) throw new Error("expected allowed");
  });
  bench("this mode's OpenFGA (real server in cluster mode)", async () => {
    if (!(await env.clients.authz.check(question)).allowed) throw new Error("expected allowed");
  });
});
