// Re-records the real server's outcomes of the fidelity corpus into recording.json, through the factory in
// cluster mode (so keys carry a prefix and are deleted afterwards, as in any suite):
//   REDIS_URL=redis://127.0.0.1:<port> pnpm --filter @org/test-support redis:record
// Use a private redis-server 7.0 (scripts/... or `redis-server --port <free>`): the corpus is harmless on a
// shared one, but a private server keeps the recording free of other clients' pub/sub and scripts.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { createIntegrationEnvironment } from "../../src/environment.js";
import { redis } from "../../src/redis/redis.js";
import { FIDELITY_CASES } from "./cases.js";
import { runCase } from "./runner.js";

const url = process.env.REDIS_URL;
if (!url) {
  console.error("Set REDIS_URL to a real Redis 7 server, e.g. redis://127.0.0.1:6390");
  process.exit(2);
}
const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
await probe.connect();
const server = /redis_version:(\S+)/.exec(await probe.info("server"))?.[1] ?? "unknown";
probe.disconnect();

const env = await createIntegrationEnvironment({
  service: "redis-fidelity",
  dependencies: { cache: redis({ urlEnv: "REDIS_URL" }) },
  env: { INTEGRATION_MODE: "cluster", REDIS_URL: url },
  telemetry: { emit() {} },
});
const cases: Record<string, unknown[]> = {};
try {
  for (const fidelityCase of FIDELITY_CASES) {
    await env.reset();
    cases[fidelityCase.id] = (await runCase(fidelityCase, env.clients.cache)).outcomes;
  }
} finally {
  await env.close();
}
const file = fileURLToPath(new URL("./recording.json", import.meta.url));
writeFileSync(file, `${JSON.stringify({ server, cases }, null, 2)}\n`);
execFileSync("pnpm", ["exec", "biome", "format", "--write", file], { stdio: "inherit" });
console.log(`recorded ${Object.keys(cases).length} cases from Redis ${server} into ${file}`);
