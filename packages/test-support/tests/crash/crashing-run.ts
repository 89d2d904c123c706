// A test run that dies: it builds an environment in cluster mode, writes a row, keys and tuples, starts a workflow, prints what
// it owns as one JSON line, and waits to be killed (tests/integration/crash-sweep.test.ts sends SIGKILL).
import { createIntegrationEnvironment, createStoreClient, uniqueWorkflowId } from "../../src/index.js";
import { crashDependencies } from "./dependencies.js";

const environment = await createIntegrationEnvironment({
  service: "crash",
  dependencies: crashDependencies(),
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
