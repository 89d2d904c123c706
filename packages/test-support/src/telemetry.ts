import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { shardFromEnv, shardLabel } from "./cli/shard.js";
import type { IntegrationMode } from "./mode.js";

/** One structured event; targets are always redacted before they get here. */
export interface TelemetryEvent {
  event: "dependency.selected" | "dependency.reset" | "dependency.closed" | "environment.failed";
  time: string;
  service: string;
  mode: IntegrationMode;
  runId: string;
  dependency?: string;
  kind?: string;
  implementation?: string;
  target?: string;
  durationMs?: number;
  error?: string;
}

/** Where events go. The default writes one JSON line to stderr and to artifacts/<service>/events.jsonl. */
export interface TelemetrySink {
  emit(event: TelemetryEvent): void;
}

/**
 * The artifacts folder: INTEGRATION_ARTIFACTS_DIR when set, else `artifacts/` beside the nearest
 * pnpm-workspace.yaml above the working directory, else `artifacts/` in the working directory.
 */
export function resolveArtifactsDir(
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): string {
  const explicit = env.INTEGRATION_ARTIFACTS_DIR;
  if (explicit) return resolve(cwd, explicit);
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return join(dir, "artifacts");
    const parent = dirname(dir);
    if (parent === dir) return resolve(cwd, "artifacts");
    dir = parent;
  }
}

/** The default sink: every event to a JSON-lines file per service; selections and failures also to stderr. */
export function createDefaultTelemetry(options: {
  artifactsDir: string;
  service: string;
  stderr?: boolean;
}): TelemetrySink {
  // A shard's events go to a file of its own, so shards run one after another in one checkout all count.
  const shard = shardFromEnv();
  const file = join(
    options.artifactsDir,
    options.service,
    shard ? `events-${shardLabel(shard)}.jsonl` : "events.jsonl",
  );
  let ready = false;
  return {
    emit(event) {
      const line = JSON.stringify(event);
      // Per-test resets and closes go to the file only; stderr keeps what a reader needs to see.
      const loud =
        event.event === "dependency.selected" || event.event === "environment.failed" || event.error;
      if (options.stderr !== false && loud) process.stderr.write(`[test-support] ${line}\n`);
      if (!ready) {
        mkdirSync(dirname(file), { recursive: true });
        ready = true;
      }
      appendFileSync(file, `${line}\n`);
    },
  };
}
