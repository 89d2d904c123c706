// The dependencies of the crashing run (crashing-run.ts) and of the living environment beside it
// (tests/integration/crash-sweep.test.ts): one of each kind that leaves something on a live server.
import { openfga, postgres, redis, temporal } from "../../src/index.js";

export function crashDependencies() {
  return {
    db: postgres({
      migrations: new URL("../fixtures/migrations/", import.meta.url),
      urlEnv: "TEST_SUPPORT_DATABASE_URL",
    }),
    cache: redis({ urlEnv: "REDIS_URL" }),
    authz: openfga({ model: new URL("../fixtures/authz.fga", import.meta.url) }),
    workflows: temporal({
      namespaceEnv: "TEMPORAL_NAMESPACE",
      addressEnv: "TEMPORAL_ADDRESS",
      taskQueue: "crash",
    }),
  };
}
