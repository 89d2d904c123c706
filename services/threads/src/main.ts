// The threads service as a process: THREADS_PORT, THREADS_DATABASE_URL (schema "threads"), REDIS_URL,
// PLATFORM_GRPC_URL, LLM_BASE_URL and optionally THREADS_RATE_LIMIT (per user per minute).
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { migrate, PlatformService } from "@org/platform";
import { Redis } from "ioredis";
import pg from "pg";
import { createThreadsServer } from "./server.js";

function need(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`[threads] ${name} is not set; the service reads every dependency from the environment.`);
    process.exit(2);
  }
  return value;
}

const port = Number(need("THREADS_PORT"));
const schema = process.env.THREADS_DB_SCHEMA ?? "threads";
const pool = new pg.Pool({
  connectionString: need("THREADS_DATABASE_URL"),
  options: `-c search_path=${schema}`,
});
await pool.query(`create schema if not exists "${schema}"`);
await migrate(pool, new URL("../migrations/", import.meta.url));
const cache = new Redis(need("REDIS_URL"), { keyPrefix: "threads:" });
const platform = createClient(PlatformService, createGrpcTransport({ baseUrl: need("PLATFORM_GRPC_URL") }));
const llmBase = need("LLM_BASE_URL");
const llmFetch = ((input: string | URL | Request, init?: RequestInit) =>
  fetch(input instanceof Request ? input : new URL(String(input), llmBase), init)) as typeof fetch;

const server = createThreadsServer({
  db: pool,
  cache,
  platform,
  llmFetch,
  rateLimitPerMinute: Number(process.env.THREADS_RATE_LIMIT ?? 30),
});
server.listen(port, "127.0.0.1", () => console.log(`[threads] listening on 127.0.0.1:${port}`));
const stop = () => server.close(() => Promise.all([pool.end(), cache.quit()]).then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
