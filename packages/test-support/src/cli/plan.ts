import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { TestSupportError } from "../errors.js";
import { INTEGRATION_MODE_VARIABLE, type IntegrationMode } from "../mode.js";

/** The runner's options, as the command line gave them. */
export interface RunOptions {
  mode: IntegrationMode;
  filter: string[];
  affected: boolean;
  base?: string;
  smoke: boolean;
  envFile?: string;
}

/** What a run will do: the variables it adds, and the turbo arguments. */
export interface RunPlan {
  mode: IntegrationMode;
  /** Variables set for every task, on top of the caller's environment. */
  env: Record<string, string>;
  /** Keys read from --env-file that the caller's environment did not already set. */
  fromEnvFile: string[];
  turboArgs: string[];
  /** Arguments for `turbo ls` that select the same packages. */
  lsArgs: string[];
}

/** Reads KEY=value lines with Node's own parser; a missing or unreadable file is a usage error. */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `--env-file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); copy .env.integration.example to it and fill it in.`,
    );
  }
  return parseEnv(text) as Record<string, string>;
}

/**
 * Plans a run. The mode is set explicitly for every task; variables from --env-file fill in what the
 * caller's environment does not already set (as Node's --env-file does), except INTEGRATION_MODE, which
 * only --mode decides. Cluster runs never replay a cached result.
 */
export function planRun(
  options: RunOptions,
  callerEnv: Readonly<Record<string, string | undefined>>,
): RunPlan {
  const fileEnv = options.envFile ? readEnvFile(options.envFile) : {};
  const fromEnvFile = Object.keys(fileEnv).filter(
    (key) => key !== INTEGRATION_MODE_VARIABLE && callerEnv[key] === undefined,
  );
  const env: Record<string, string> = Object.fromEntries(
    fromEnvFile.map((key) => [key, fileEnv[key] as string]),
  );
  env[INTEGRATION_MODE_VARIABLE] = options.mode;
  if (options.smoke) env.INTEGRATION_SMOKE = "1";
  if (options.base) env.TURBO_SCM_BASE = options.base;
  const selection = [
    ...options.filter.map((f) => `--filter=${f}`),
    ...(options.affected ? ["--affected"] : []),
  ];
  const turboArgs = ["run", "test:integration", "--continue", ...selection];
  if (options.mode === "cluster") turboArgs.push("--force");
  return { mode: options.mode, env, fromEnvFile, turboArgs, lsArgs: ["ls", "--output=json", ...selection] };
}
