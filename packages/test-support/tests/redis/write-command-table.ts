// Regenerates src/redis/command-table.json from a real Redis 7 (read-only: COMMAND INFO, COMMAND DOCS, INFO).
//   REDIS_URL=redis://127.0.0.1:6379 pnpm --filter @org/test-support redis:commands
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { readCommandTable } from "./command-source.js";

const url = process.env.REDIS_URL;
if (!url) {
  console.error("Set REDIS_URL to a real Redis 7 server, e.g. redis://127.0.0.1:6379");
  process.exit(2);
}
const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
await client.connect();
try {
  const tableFile = fileURLToPath(new URL("../../src/redis/command-table.json", import.meta.url));
  const commandTable = await readCommandTable(client);
  writeFileSync(tableFile, `${JSON.stringify(commandTable, null, 2)}\n`);
  execFileSync("pnpm", ["exec", "biome", "format", "--write", tableFile], { stdio: "inherit" });
  console.log(
    `wrote ${tableFile}: ${Object.keys(commandTable.commands).length} commands of Redis ${commandTable.server}`,
  );
} finally {
  client.disconnect();
}
