// The same factory from plain node:test (no Vitest): set up once, reset before each test, close at the end.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  createIntegrationEnvironment,
  type IntegrationEnvironment,
  postgres,
  redis,
} from "../../src/index.js";

const dependencies = {
  db: postgres({
    migrations: new URL("../fixtures/migrations/", import.meta.url),
    urlEnv: "TEST_SUPPORT_DATABASE_URL",
  }),
  cache: redis({ urlEnv: "REDIS_URL" }),
};

describe("createIntegrationEnvironment from node:test", () => {
  let env: IntegrationEnvironment<typeof dependencies>;
  before(async () => {
    env = await createIntegrationEnvironment({ service: "test-support", dependencies });
  });
  beforeEach(() => env.reset());
  after(() => env.close());

  it("writes through both clients @smoke", async () => {
    await env.clients.db.query("insert into accounts (email) values ('node@example.test')");
    await env.clients.cache.set("seen", "yes");
    const rows = await env.clients.db.query<{ email: string }>("select email from accounts");
    assert.deepEqual(rows.rows, [{ email: "node@example.test" }]);
    assert.equal(await env.clients.cache.get("seen"), "yes");
  });

  it("starts the next test clean", async () => {
    const rows = await env.clients.db.query<{ n: number }>("select count(*)::int as n from accounts");
    assert.equal(rows.rows[0]?.n, 0);
    assert.equal(await env.clients.cache.get("seen"), null);
  });

  it("closes at the end of an await using block", async () => {
    let scopedEnv: IntegrationEnvironment<typeof dependencies> | undefined;
    {
      await using scoped = await createIntegrationEnvironment({ service: "test-support", dependencies });
      await scoped.clients.cache.set("k", "v");
      assert.equal(await scoped.clients.cache.get("k"), "v");
      scopedEnv = scoped;
    }
    await assert.rejects(scopedEnv.reset(), /it was closed/);
  });
});
