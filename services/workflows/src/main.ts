// The workflows service as a process, with its Temporal Worker in-process: WORKFLOWS_PORT,
// WORKFLOWS_DATABASE_URL (schema "workflows"), TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, THREADS_GRPC_URL.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { migrate } from "@org/platform";
import { ThreadsService } from "@org/threads";
import { Client, Connection } from "@temporalio/client";
import { NativeConnection, Worker } from "@temporalio/worker";
import pg from "pg";
import { createActivities } from "./activities.js";
import { createWorkflowsServer } from "./server.js";

function need(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`[workflows] ${name} is not set; the service reads every dependency from the environment.`);
    process.exit(2);
  }
  return value;
}

const TASK_QUEUE = "onboarding";
const port = Number(need("WORKFLOWS_PORT"));
const schema = process.env.WORKFLOWS_DB_SCHEMA ?? "workflows";
const pool = new pg.Pool({
  connectionString: need("WORKFLOWS_DATABASE_URL"),
  options: `-c search_path=${schema}`,
});
await pool.query(`create schema if not exists "${schema}"`);
await migrate(pool, new URL("../migrations/", import.meta.url));
const threads = createClient(ThreadsService, createGrpcTransport({ baseUrl: need("THREADS_GRPC_URL") }));
const address = need("TEMPORAL_ADDRESS");
const namespace = need("TEMPORAL_NAMESPACE");

const worker = await Worker.create({
  connection: await NativeConnection.connect({ address }),
  namespace,
  taskQueue: TASK_QUEUE,
  workflowsPath: new URL("./workflows.js", import.meta.url).pathname,
  activities: createActivities({ db: pool, threads }),
});
const running = worker.run();
const client = new Client({ connection: await Connection.connect({ address }), namespace });

const server = createWorkflowsServer({ db: pool, workflow: client.workflow, taskQueue: TASK_QUEUE });
server.listen(port, "127.0.0.1", () => console.log(`[workflows] listening on 127.0.0.1:${port}`));
const stop = () => {
  worker.shutdown();
  server.close(() => running.then(() => pool.end()).then(() => process.exit(0)));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
