// A run that starts a local engine (redis-server), prints its port, and waits to be killed
// (src/lease/process-lease.test.ts sends SIGKILL, which leaves the engine running).
import { startRedisServer } from "../../src/redis/local-server.js";

const server = await startRedisServer({ env: process.env });
console.log(JSON.stringify({ port: server.port }));
setInterval(() => {}, 1000);
