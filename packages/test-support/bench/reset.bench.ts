// Reset cost per dependency in the mode INTEGRATION_MODE selects. Each dependency has an environment of
// its own so a case times only its own reset.
import { afterAll, beforeAll, bench, describe } from "vitest";
import { createIntegrationEnvironment, type IntegrationEnvironment, postgres, redis } from "../src/index.js";

const db = {
  db: postgres({
    migrations: new URL("../tests/fixtures/migrations/", import.meta.url),
    urlEnv: "TEST_SUPPORT_DATABASE_URL",
  }),
};
const cache = { cache: redis({ urlEnv: "REDIS_URL" }) };
let dbEnv: IntegrationEnvironment<typeof db>;
let cacheEnv: IntegrationEnvironment<typeof cache>;

beforeAll(async () => {
  dbEnv = await createIntegrationEnvironment({ service: "test-support-bench", dependencies: db });
  cacheEnv = await createIntegrationEnvironment({ service: "test-support-bench", dependencies: cache });
});
afterAll(async () => {
  await dbEnv.close();
  await cacheEnv.close();
});

describe("reset after a small test's writes", () => {
  bench("postgres: 10 rows in 2 tables, then reset", async () => {
    const { rows } = await dbEnv.clients.db.query<{ id: number }>(
      "insert into accounts (email) values ('a@x.test'), ('b@x.test'), ('c@x.test'), ('d@x.test'), ('e@x.test') returning id",
    );
    await dbEnv.clients.db.query(
      "insert into notes (account_id, body) values ($1, 'n'), ($2, 'n'), ($3, 'n'), ($4, 'n'), ($5, 'n')",
      rows.map((r) => r.id),
    );
    await dbEnv.reset();
  });

  bench("redis: 10 keys, then reset", async () => {
    const pipeline = cacheEnv.clients.cache.pipeline();
    for (let i = 0; i < 10; i++) pipeline.set(`k:${i}`, "v");
    await pipeline.exec();
    await cacheEnv.reset();
  });
});
