// The platform service as a process: PLATFORM_PORT, PLATFORM_DATABASE_URL (its schema is "platform"),
// FGA_API_URL and optionally FGA_STORE_ID (else a store "platform" is created with the model).
import { readFile } from "node:fs/promises";
import { OpenFgaClient } from "@openfga/sdk";
import { transformer } from "@openfga/syntax-transformer";
import pg from "pg";
import { migrate } from "./migrate.js";
import { createPlatformServer } from "./server.js";

function need(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`[platform] ${name} is not set; the service reads every dependency from the environment.`);
    process.exit(2);
  }
  return value;
}

const port = Number(need("PLATFORM_PORT"));
const schema = process.env.PLATFORM_DB_SCHEMA ?? "platform";
const pool = new pg.Pool({
  connectionString: need("PLATFORM_DATABASE_URL"),
  options: `-c search_path=${schema}`,
});
await pool.query(`create schema if not exists "${schema}"`);
await migrate(pool);

const apiUrl = need("FGA_API_URL");
const storeId =
  process.env.FGA_STORE_ID || (await new OpenFgaClient({ apiUrl }).createStore({ name: "platform" })).id;
const model = transformer.transformDSLToJSONObject(
  await readFile(new URL("../authz.fga", import.meta.url), "utf8"),
);
const store = new OpenFgaClient({ apiUrl, storeId });
const { authorization_model_id } = await store.writeAuthorizationModel(model as never);
const authz = new OpenFgaClient({ apiUrl, storeId, authorizationModelId: authorization_model_id });

const server = createPlatformServer({ db: pool, authz });
server.listen(port, "127.0.0.1", () =>
  console.log(`[platform] listening on 127.0.0.1:${port} (store ${storeId})`),
);
const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
