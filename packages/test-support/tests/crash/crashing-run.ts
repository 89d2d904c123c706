// A test run that dies: it builds an environment in cluster mode, writes a row, keys and tuples, starts a workflow, prints what
// it owns as one JSON line, and waits to be killed (tests/integration/crash-sweep.test.ts sends SIGKILL).
import {
  createIntegrationEnvironment,
  createStoreClient,
  openfga,
  postgres,
  redis,
  temporal,
  uniqueWorkflowId,
} from "../../src/index.js";

const environment = await createIntegrationEnvironment({
  service: "crash",
  dependencies: {
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
  },
  telemetry: { emit() {} },
});
const { db, cache, authz, workflows } = environment.clients;
await db.query("insert into accounts (email) values ('crash@example.test')");
await cache.set("a", "1");
await cache.hset("b", "f", "v");
await authz.writeTuples([{ user: "user:crash", relation: "owner", object: "document:crash" }]);
const scratch = await createStoreClient(authz, "crash-scratch");
// No worker polls "crash": the workflow runs until something terminates it.
const { workflowId } = await workflows.workflow.start("waits", {
  workflowId: uniqueWorkflowId("crash"),
  taskQueue: "crash",
});
const schema = /schema (\S+)\)/.exec(environment.targets.db.target)?.[1];
const prefix = /keys (\S+)\*\)/.exec(environment.targets.cache.target)?.[1];
console.log(JSON.stringify({ schema, prefix, store: authz.storeId, scratch: scratch.storeId, workflowId }));
setInterval(() => {}, 1000);
