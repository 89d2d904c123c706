// What @org/test-support's own integration suites depend on, for doctor and the generated mode matrix.
import { declareService, openfga, postgres, redis, temporal } from "../src/index.js";

export const testSupportDeclaration = declareService("test-support", {
  db: postgres({
    migrations: new URL("./fixtures/migrations/", import.meta.url),
    urlEnv: "TEST_SUPPORT_DATABASE_URL",
  }),
  cache: redis({ urlEnv: "REDIS_URL" }),
  authz: openfga({ model: new URL("./fixtures/authz.fga", import.meta.url) }),
  temporal: temporal({
    namespaceEnv: "TEMPORAL_NAMESPACE",
    addressEnv: "TEMPORAL_ADDRESS",
    taskQueue: "test-support",
  }),
});
