import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import type { ServiceDeclaration } from "../declaration.js";
import type { EnvironmentVariables } from "../dependency.js";
import { TestSupportError } from "../errors.js";
import { INTEGRATION_MODE_VARIABLE, type IntegrationMode, parseIntegrationMode } from "../mode.js";

/** The runner's options, as the command line gave them. */
export interface RunOptions {
  /** --mode, when given; otherwise INTEGRATION_MODE decides, else repo. */
  mode?: IntegrationMode;
  filter: string[];
  affected: boolean;
  base?: string;
  smoke: boolean;
  /** --force: run every task even when turbo holds a result for the same inputs. */
  force?: boolean;
  /** --vars-file (or --env-file after a `--`): variables to fill in from a file. */
  varsFile?: string;
}

/** Where the run's mode came from, for the first line the runner prints. */
export type ModeSource = "--mode" | typeof INTEGRATION_MODE_VARIABLE | "default";

/** What a run will do: the variables it adds, and the turbo arguments. */
export interface RunPlan {
  mode: IntegrationMode;
  modeSource: ModeSource;
  /** Variables set for every task, on top of the caller's environment. */
  env: Record<string, string>;
  /** Keys read from the vars file that the caller's environment did not already set. */
  fromVarsFile: string[];
  /** Keys of the vars file that were not used, and why. */
  ignoredFromVarsFile: string[];
  turboArgs: string[];
  /** Arguments for `turbo ls` that select the same packages. */
  lsArgs: string[];
  /** Arguments for a `turbo run --dry=json` that says which tasks turbo would replay from its cache. */
  dryRunArgs: string[];
}

/** The mode INTEGRATION_MODE names in `env`, through the one parser; undefined when it is unset. */
function modeFromVariable(env: EnvironmentVariables): IntegrationMode | undefined {
  const raw = env[INTEGRATION_MODE_VARIABLE];
  if (raw === undefined) return undefined;
  try {
    return parseIntegrationMode(raw);
  } catch (error) {
    throw new TestSupportError(
      "INVALID_MODE",
      `${(error as Error).message.replace(/^\[test-support\] /, "")} The runner obeys it when --mode is absent: ` +
        "fix or unset it, or pass --mode.",
    );
  }
}

/**
 * The run's mode: --mode when given, else INTEGRATION_MODE (parsed by the one parser), else repo. Both given
 * and different is an error naming both, so a shell's exported mode never silently loses to, or beats, a flag.
 */
export function resolveMode(
  flag: IntegrationMode | undefined,
  callerEnv: EnvironmentVariables,
): { mode: IntegrationMode; source: ModeSource } {
  const variable = modeFromVariable(callerEnv);
  if (flag !== undefined && variable !== undefined && flag !== variable) {
    throw new TestSupportError(
      "MODE_CONFLICT",
      `--mode=${flag} conflicts with ${INTEGRATION_MODE_VARIABLE}=${variable} in the environment. ` +
        `Pick one: drop --mode to run in ${variable} mode, or unset ${INTEGRATION_MODE_VARIABLE} ` +
        `(or set it to ${flag}) to run in ${flag} mode.`,
    );
  }
  if (flag !== undefined) return { mode: flag, source: "--mode" };
  if (variable !== undefined) return { mode: variable, source: INTEGRATION_MODE_VARIABLE };
  return { mode: "repo", source: "default" };
}

/** Reads KEY=value lines with Node's own parser; a missing or unreadable file is a usage error. */
export function readVarsFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `--vars-file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
        "write one with `bash scripts/cluster-up.sh > .env.integration`, or copy .env.integration.example and fill it in.",
    );
  }
  return parseEnv(text) as Record<string, string>;
}

/** The turbo arguments that select the same packages for `run`, `ls` and a dry run. */
function selectionArgs(options: RunOptions): string[] {
  return [...options.filter.map((f) => `--filter=${f}`), ...(options.affected ? ["--affected"] : [])];
}

/**
 * Plans a run. The mode is set explicitly for every task; variables from the vars file fill in what the
 * caller's environment does not already set (as Node's --env-file does), except INTEGRATION_MODE, which only
 * --mode or the environment decide. Cluster runs never replay a cached result; --force makes no run replay one.
 */
export function planRun(options: RunOptions, callerEnv: EnvironmentVariables): RunPlan {
  const { mode, source } = resolveMode(options.mode, callerEnv);
  const fileEnv = options.varsFile ? readVarsFile(options.varsFile) : {};
  const fromVarsFile = Object.keys(fileEnv).filter(
    (key) => key !== INTEGRATION_MODE_VARIABLE && callerEnv[key] === undefined,
  );
  const ignoredFromVarsFile = Object.keys(fileEnv).filter((key) => key === INTEGRATION_MODE_VARIABLE);
  const env: Record<string, string> = Object.fromEntries(
    fromVarsFile.map((key) => [key, fileEnv[key] as string]),
  );
  env[INTEGRATION_MODE_VARIABLE] = mode;
  if (options.smoke) env.INTEGRATION_SMOKE = "1";
  if (options.base) env.TURBO_SCM_BASE = options.base;
  const selection = selectionArgs(options);
  const turboArgs = ["run", "test:integration", "--continue", ...selection];
  if (mode === "cluster" || options.force) turboArgs.push("--force");
  return {
    mode,
    modeSource: source,
    env,
    fromVarsFile,
    ignoredFromVarsFile,
    turboArgs,
    lsArgs: ["ls", "--output=json", ...selection],
    dryRunArgs: ["run", "test:integration", "--dry=json", ...selection],
  };
}

/** One selected package as `turbo ls` names it. */
export interface SelectedPackage {
  name: string;
  path: string;
}

/** The artifacts folder a package's suites write to: its folder's name (services/threads → threads). */
export const artifactsNameOf = (pkg: SelectedPackage): string =>
  pkg.path.replace(/\\/g, "/").replace(/\/+$/, "").split("/").pop() as string;

/**
 * What an empty selection means: nothing affected by a change is a success; a filter that matches no package
 * at all (`filterMatches` false, whether or not --affected was given) is a mistake to report.
 */
export function emptySelection(
  options: Pick<RunOptions, "affected" | "filter" | "base">,
  filterMatches: boolean,
): { exitCode: 0 | 1; message: string } {
  if (options.affected && filterMatches) {
    return {
      exitCode: 0,
      message:
        `nothing is affected against ${options.base ?? "the base ref (turbo's default, main)"}` +
        `${options.filter.length > 0 ? ` within --filter ${options.filter.join(" ")}` : ""}: no integration suite needs to run.`,
    };
  }
  return {
    exitCode: 1,
    message:
      `no package with integration suites matches --filter ${options.filter.join(" ")}; ` +
      "list the packages with `pnpm exec turbo ls` and filter on a name such as @org/threads or a path such as ./services/*.",
  };
}

/** A dependency of a selected service whose cluster variables are not all set. */
export interface MissingVariables {
  service: string;
  dependency: string;
  kind: string;
  variables: string[];
}

/** Every selected service's dependencies whose variables are unset or empty in `env`, in one list. */
export function missingVariables(
  declarations: readonly ServiceDeclaration[],
  env: EnvironmentVariables,
): MissingVariables[] {
  const missing: MissingVariables[] = [];
  for (const { service, dependencies } of declarations) {
    for (const [dependency, { kind, variables }] of Object.entries(dependencies)) {
      const unset = variables.filter((variable) => !env[variable]);
      if (unset.length > 0) missing.push({ service, dependency, kind, variables: unset });
    }
  }
  return missing;
}

/** The one message a cluster run stops with when variables are missing: every one, and how to set them. */
export function missingVariablesMessage(missing: readonly MissingVariables[], packages: string[]): string {
  const unique = [...new Set(missing.flatMap((m) => m.variables))].sort();
  const lines = missing.map((m) => `  - ${m.variables.join(", ")} (${m.service}.${m.dependency}, ${m.kind})`);
  // `packages` is empty when the run selected every package: then the commands need no selection.
  const forArgs = packages.map((p) => ` --for ${p}`).join("");
  return (
    `cluster mode needs ${unique.length} variable${unique.length === 1 ? "" : "s"} that ${unique.length === 1 ? "is" : "are"} not set; nothing ran:\n` +
    `${lines.join("\n")}\n` +
    `Start what the selected suites need and read its variables:\n` +
    `  bash scripts/cluster-up.sh${forArgs} > .env.integration\n` +
    `  pnpm test:integration --mode=cluster --vars-file .env.integration${packages.map((p) => ` --filter ${p}`).join("")}\n` +
    "or export them (see .env.integration.example), or run without live services: --mode=repo."
  );
}

/** A package whose integration suites a run selects, and whether turbo would replay its result. */
export interface SelectedSuite extends SelectedPackage {
  /** turbo holds a result for the same inputs and would replay it instead of running the tests. */
  cached: boolean;
}

/**
 * The packages a `turbo run test:integration --dry=json` would run the suites of (packages without such a
 * script are left out), with turbo's cache status for each; sorted by name.
 */
export function suitesFromDryRun(json: string): SelectedSuite[] {
  let parsed: {
    tasks?: {
      task?: string;
      package?: string;
      directory?: string;
      command?: string;
      cache?: { status?: string };
    }[];
  };
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `turbo did not answer the dry run with JSON: ${json.slice(0, 300).trim() || "(nothing)"}`,
    );
  }
  return (parsed.tasks ?? [])
    .filter((t) => t.task === "test:integration" && t.package && t.command !== "<NONEXISTENT>")
    .map((t) => ({
      name: t.package as string,
      path: t.directory ?? "",
      cached: t.cache?.status === "HIT",
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The packages a dry run would build before the suites run (their `build` tasks), by name and folder. */
export function buildsFromDryRun(json: string): SelectedPackage[] {
  let parsed: { tasks?: { task?: string; package?: string; directory?: string; command?: string }[] };
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  return (parsed.tasks ?? [])
    .filter((t) => t.task === "build" && t.package && t.command !== "<NONEXISTENT>")
    .map((t) => ({ name: t.package as string, path: t.directory ?? "" }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
