// The deterministic provider as its own process, for the cluster lane: LLM_PORT on 127.0.0.1.
import { createProviderServer } from "./provider.js";

const port = Number(process.env.LLM_PORT);
if (!port) {
  console.error("[provider] LLM_PORT is not set");
  process.exit(2);
}
const server = createProviderServer().listen(port, "127.0.0.1", () =>
  console.log(`[provider] listening on 127.0.0.1:${port}`),
);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
