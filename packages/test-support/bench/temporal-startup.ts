// Times what the Temporal dependency costs to bring up in the mode INTEGRATION_MODE selects (median of
// RUNS), and workflow bundling fresh versus reused from the run's cache. Run once per mode:
//   INTEGRATION_MODE=repo pnpm exec tsx bench/temporal-startup.ts
import { rmSync } from "node:fs";
import {
  bundleWorkflows,
  createIntegrationEnvironment,
  temporal,
  temporalBundleCacheDir,
} from "../src/index.js";

const runs = Number(process.env.RUNS ?? 5);
const dependencies = {
  workflows: temporal({
    namespaceEnv: "TEMPORAL_NAMESPACE",
    addressEnv: "TEMPORAL_ADDRESS",
    taskQueue: "bench",
  }),
};
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

const bringUp: number[] = [];
let mode = "";
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const env = await createIntegrationEnvironment({
    service: "bench",
    dependencies,
    telemetry: { emit() {} },
  });
  bringUp.push(performance.now() - started);
  mode = env.mode;
  await env.close();
}
console.log(`${mode}: environment up, median of ${runs}: ${median(bringUp).toFixed(1)} ms`);

if (process.env.BUNDLE === "1") {
  const entry = new URL("../tests/fixtures/temporal/workflows.ts", import.meta.url);
  rmSync(temporalBundleCacheDir(), { recursive: true, force: true });
  const fresh = await bundleWorkflows(entry);
  console.log(`bundle: fresh ${fresh.durationMs.toFixed(0)} ms (reused: ${fresh.reused})`);
}
if (process.env.BUNDLE === "2") {
  const reused = await bundleWorkflows(new URL("../tests/fixtures/temporal/workflows.ts", import.meta.url));
  console.log(`bundle: in a new process ${reused.durationMs.toFixed(1)} ms (reused: ${reused.reused})`);
}
