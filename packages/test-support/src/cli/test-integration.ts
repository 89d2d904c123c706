// `pnpm test:integration`: runs every package's integration suites in one mode through turbo.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { Command, Option } from "commander";
import type { EnvironmentVariables } from "../dependency.js";
import { isTestSupportError, TestSupportError } from "../errors.js";
import { processLeaseDir } from "../lease/process-lease.js";
import { type OwnedSupervisor, startSupervisor } from "../local/client.js";
import { enginesNeeded, prepareEngines } from "../local/preflight.js";
import { LOCAL_ENGINES_VARIABLE } from "../local/protocol.js";
import { describeEngines } from "../local/summary.js";
import { INTEGRATION_MODES, type IntegrationMode } from "../mode.js";
import { resolveArtifactsDir } from "../telemetry.js";
import { loadPackageDeclarations, type PackageDeclaration } from "./declarations.js";
import { doctor } from "./doctor.js";
import { driftCommand } from "./drift.js";
import { closingLine, countJUnit, type JUnitCounts, junitSeconds, notRunInMode } from "./junit-summary.js";
import {
  artifactsNameOf,
  buildsFromDryRun,
  emptySelection,
  missingVariables,
  missingVariablesMessage,
  planRun,
  type RunOptions,
  type RunPlan,
  readVarsFile,
  type SelectedPackage,
  type SelectedSuite,
  suitesFromDryRun,
} from "./plan.js";
import { type ProbeResult, probeDependency } from "./probes.js";
import { parseEvents, summarizeRun, writeServiceSummary } from "./run-summary.js";
import {
  fileSecondsFromJUnit,
  integrationFiles,
  nodeTestSeconds,
  parseShard,
  planShards,
  readTimings,
  SHARD_FILE_VARIABLE,
  SHARD_VARIABLE,
  type Shard,
  selectionOf,
  shardOfFile,
  staleResultFiles,
  TIMINGS_FILE,
  withRecordedTimings,
  writeSelection,
  writeTimings,
} from "./shard.js";
import { SWEPT_KINDS, type SweepTarget, type SweptKind, sweep, sweepTargetsOf } from "./sweep.js";

/** Exit codes: 0 every selected suite passed (or nothing was affected); 1 a test failed or none ran; 2 the command line or the variables were wrong. */
const EXIT = { passed: 0, failed: 1, usage: 2 } as const;

const say = (line: string) => console.log(`[test:integration] ${line}`);
const complain = (line: string) => console.error(`[test:integration] ${line}`);

/** The workspace root: the folder holding pnpm-workspace.yaml above the working directory. */
const workspaceRoot = () => dirname(resolveArtifactsDir({}));

const isModeFile = (name: string, mode: IntegrationMode) =>
  name.startsWith("junit-") && name.endsWith(`-${mode}.xml`);

/** The JUnit files of `mode` in one service's artifacts folder. */
function modeFiles(folder: string, mode: IntegrationMode): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => isModeFile(name, mode))
    .map((name) => join(folder, name));
}

/** What turbo's dry run for the plan says: the packages with suites (and which it would replay), and the builds. */
function dryRun(
  plan: RunPlan,
  env: NodeJS.ProcessEnv,
): { suites: SelectedSuite[]; builds: SelectedPackage[] } {
  const dry = spawnSync("pnpm", ["exec", "turbo", ...plan.dryRunArgs], {
    env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (dry.status !== 0) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `turbo could not plan the run (exit ${dry.status}): ${(dry.stderr || dry.stdout).trim().split("\n").slice(-3).join(" ")}`,
    );
  }
  return { suites: suitesFromDryRun(dry.stdout), builds: buildsFromDryRun(dry.stdout) };
}

/** Builds the given turbo filters (turbo; cached when nothing changed). */
function build(filters: string[]): boolean {
  const result = spawnSync(
    "pnpm",
    ["exec", "turbo", "run", "build", "--output-logs=errors-only", ...filters.map((f) => `--filter=${f}`)],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  if (result.status !== 0) complain("the build failed; see turbo's output above.");
  return result.status === 0;
}

/**
 * The selected packages' declarations; undefined (after saying why) when one cannot load. The services'
 * declarations import built packages, so when a package the run builds has never been built (a fresh
 * clone), it is built first: a module that failed to load stays failed in this process, so building after
 * a failure could not help.
 */
async function selectedDeclarations(
  root: string,
  suites: SelectedSuite[],
  builds: SelectedPackage[],
): Promise<PackageDeclaration[] | undefined> {
  const unbuilt = builds.filter((b) => !existsSync(join(root, b.path, "dist")));
  if (unbuilt.length > 0) {
    say(`building ${unbuilt.map((b) => b.name).join(", ")} first, so the declarations load`);
    if (!build(suites.map((s) => `${s.name}...`))) return undefined;
  }
  const problems: string[] = [];
  const loaded = await loadPackageDeclarations(root, (p) => problems.push(p));
  // Only the selected packages' declarations matter; each problem starts with its package's folder.
  const selected = problems.filter((problem) => suites.some((s) => problem.startsWith(`${s.path}:`)));
  if (selected.length > 0) {
    for (const problem of selected) complain(problem);
    complain("without its declaration a package's cluster variables cannot be checked; nothing ran.");
    return undefined;
  }
  const names = new Set(suites.map((s) => s.name));
  return loaded.filter((d) => names.has(d.packageName));
}

/** Probes every selected dependency's targets by protocol; returns the ones that do not answer, once each. */
async function unreachableTargets(
  declarations: PackageDeclaration[],
  env: EnvironmentVariables,
): Promise<{ variable: string; value: string; result: ProbeResult }[]> {
  const seen = new Map<string, { variable: string; value: string; result: ProbeResult }>();
  const asked = new Set<string>();
  // One dependency at a time (see probeDependency); each distinct one once.
  for (const { declaration } of declarations) {
    for (const dependency of Object.values(declaration.dependencies)) {
      const key = `${dependency.kind} ${dependency.variables.join(" ")}`;
      if (asked.has(key)) continue;
      asked.add(key);
      for (const { variable, result } of await probeDependency(dependency.kind, dependency.variables, env))
        if (!result.ok && !seen.has(variable))
          seen.set(variable, { variable, value: env[variable] ?? "", result });
    }
  }
  return [...seen.values()].sort((a, b) => a.variable.localeCompare(b.variable));
}

/** Prints the per-service counts of `mode` (of this shard's files only, in a sharded run) and returns the run's totals. */
function printSummary(
  mode: IntegrationMode,
  artifacts: string,
  folders: string[],
  replayedFolders: Set<string>,
  shard?: Shard,
): JUnitCounts {
  const total: JUnitCounts = { passed: 0, failed: 0, skipped: 0 };
  console.log(
    `\n[test:integration] ${mode} mode summary${shard ? `, shard ${shard.index}/${shard.count}` : ""}`,
  );
  for (const folder of folders) {
    const files = modeFiles(join(artifacts, folder), mode).filter((file) => {
      const of = shardOfFile(file.split("/").pop() as string);
      return !shard || (of?.index === shard.index && of.count === shard.count);
    });
    if (files.length === 0) continue;
    const counts: JUnitCounts = { passed: 0, failed: 0, skipped: 0 };
    let seconds = 0;
    const suites = new Map<string, number>();
    for (const file of files) {
      const xml = readFileSync(file, "utf8");
      const c = countJUnit(xml);
      counts.passed += c.passed;
      counts.failed += c.failed;
      counts.skipped += c.skipped;
      seconds += junitSeconds(xml);
      // One line per suite that did not run: its name up to the reason, and how many tests it holds.
      for (const name of notRunInMode(xml)) {
        const suite = name.slice(0, name.indexOf("]") + 1) || name;
        suites.set(suite, (suites.get(suite) ?? 0) + 1);
      }
    }
    const replay = replayedFolders.has(folder) ? " (replayed from turbo's cache)" : "";
    console.log(`  ${folder}: ${closingLine(counts)} in ${seconds.toFixed(1)} s${replay}`);
    for (const [suite, count] of suites) console.log(`    not run: ${suite} (${count} tests)`);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  console.log(`  total: ${closingLine(total)}`);
  return total;
}

/**
 * Writes artifacts/<service>/summary.json for every selected package from its JUnit files and events: after
 * a shard, from every shard of its split present in the folder (so shards run one after another, or whose
 * artifacts are downloaded into one folder, sum up to the unsharded run), listing the shards it holds.
 */
function writeSummaries(
  mode: IntegrationMode,
  artifacts: string,
  suites: SelectedSuite[],
  replayed: Set<string>,
) {
  const finishedAt = new Date().toISOString();
  for (const suite of suites) {
    const folder = join(artifacts, artifactsNameOf(suite));
    const files = modeFiles(folder, mode);
    const junit = files.map((file) => readFileSync(file, "utf8"));
    const eventFiles = existsSync(folder)
      ? readdirSync(folder).filter((name) => /^events(-shard-\d+-of-\d+)?\.jsonl$/.test(name))
      : [];
    const events = eventFiles.flatMap((name) => parseEvents(readFileSync(join(folder, name), "utf8")));
    if (junit.length === 0 && events.length === 0) continue;
    const shards = [
      ...new Set(
        [...files, ...eventFiles].flatMap((name) => {
          const shard = shardOfFile(name.split("/").pop() as string);
          return shard ? [`${shard.index}/${shard.count}`] : [];
        }),
      ),
    ].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    writeServiceSummary(
      join(folder, "summary.json"),
      artifactsNameOf(suite),
      summarizeRun({ mode, junit, events, replayed: replayed.has(suite.name), finishedAt, shards }),
    );
  }
}

/**
 * Plans shard `shard` of the selected packages' test files (balanced by the committed timings of the mode)
 * and writes its selection; returns the variables every task of the run gets.
 */
function planShard(
  root: string,
  mode: IntegrationMode,
  shard: Shard,
  suites: SelectedSuite[],
): { env: Record<string, string>; files: number; total: number } {
  const paths = suites.map((s) => s.path.replace(/\\/g, "/"));
  const all = paths.flatMap((path) => integrationFiles(root, path));
  const timings = readTimings(root)[mode];
  const planned = planShards(all, shard.count, timings);
  const selection = selectionOf(shard, paths, planned);
  const file = writeSelection(join(root, "node_modules", ".cache", "org-integration", "shards"), selection);
  const mine = Object.entries(selection.files).filter(([, files]) => files.length > 0);
  say(
    `shard ${shard.index}/${shard.count}: ${planned[shard.index - 1]?.length ?? 0} of ${all.length} test files ` +
      `(${timings ? `balanced by ${TIMINGS_FILE}` : "balanced by file count: no timings recorded for this mode"})` +
      `${mine.length > 0 ? `: ${mine.map(([path, files]) => `${path} ${files.length}`).join(", ")}` : ""}`,
  );
  return {
    env: { [SHARD_VARIABLE]: `${shard.index}/${shard.count}`, [SHARD_FILE_VARIABLE]: file },
    files: planned[shard.index - 1]?.length ?? 0,
    total: all.length,
  };
}

/** Records each package's per-file seconds of this run into the committed timings (unsharded runs only). */
function recordTimings(root: string, mode: IntegrationMode, artifacts: string, suites: SelectedSuite[]) {
  const recorded: Record<string, Record<string, number>> = {};
  for (const suite of suites) {
    const folder = join(artifacts, artifactsNameOf(suite));
    const path = suite.path.replace(/\\/g, "/");
    const seconds: Record<string, number> = {};
    const vitest = join(folder, `junit-${mode}.xml`);
    if (existsSync(vitest)) Object.assign(seconds, fileSecondsFromJUnit(readFileSync(vitest, "utf8")));
    // node:test's JUnit does not name files: its run's time goes to its file when there is exactly one.
    const nodeFiles = integrationFiles(root, path).filter((f) => f.file.startsWith("tests/node-test/"));
    const node = join(folder, `junit-node-${mode}.xml`);
    const nodeSeconds = existsSync(node) ? nodeTestSeconds(readFileSync(node, "utf8")) : undefined;
    if (nodeFiles.length === 1 && nodeSeconds !== undefined)
      seconds[(nodeFiles[0] as { file: string }).file] = nodeSeconds;
    if (Object.keys(seconds).length > 0) recorded[path] = seconds;
  }
  writeTimings(root, withRecordedTimings(readTimings(root), mode, recorded));
  say(`recorded ${mode} timings of ${Object.keys(recorded).join(", ") || "no package"} in ${TIMINGS_FILE}`);
}

type CliOptions = Omit<RunOptions, "varsFile"> & {
  varsFile?: string;
  envFile?: string;
  dryRun: boolean;
  shard?: string;
  recordTimings: boolean;
};

/** --vars-file, or the old --env-file spelling (which Node 20 only leaves alone after a `--`); not both. */
function varsFileOf(options: { varsFile?: string; envFile?: string }): string | undefined {
  if (options.varsFile && options.envFile && options.varsFile !== options.envFile) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `--vars-file ${options.varsFile} and --env-file ${options.envFile} name different files; pass one (--vars-file).`,
    );
  }
  return options.varsFile ?? options.envFile;
}

async function run(options: CliOptions): Promise<number> {
  const started = performance.now();
  const root = workspaceRoot();
  const varsFile = varsFileOf(options);
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  if (shard && options.recordTimings) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      "--record-timings records a whole run's timings; run it without --shard (every shard plans from the same committed timings).",
    );
  }
  const plan = planRun({ ...options, varsFile }, process.env);
  const env: NodeJS.ProcessEnv = { ...process.env, ...plan.env };
  // A shard's selection comes only from --shard, never from a variable left in the shell.
  delete env[SHARD_VARIABLE];
  delete env[SHARD_FILE_VARIABLE];
  const from = plan.modeSource === "default" ? "INTEGRATION_MODE is unset" : `from ${plan.modeSource}`;
  say(`mode: ${plan.mode} (${from})${options.smoke ? ", smoke subset" : ""}`);
  if (plan.fromVarsFile.length > 0) say(`from ${varsFile}: ${plan.fromVarsFile.join(", ")}`);
  if (plan.ignoredFromVarsFile.length > 0)
    say(
      `ignored from ${varsFile}: ${plan.ignoredFromVarsFile.join(", ")} (only --mode or the environment set the mode)`,
    );
  let { suites, builds } = dryRun(plan, env);
  say(`packages: ${suites.length > 0 ? suites.map((s) => s.name).join(", ") : "none selected"}`);
  let shardFiles: number | undefined;
  if (shard && suites.length > 0) {
    const planned = planShard(root, plan.mode, shard, suites);
    Object.assign(env, planned.env);
    shardFiles = planned.files;
    // The selection is part of turbo's hash: ask again which results turbo would replay for it.
    ({ suites, builds } = dryRun(plan, env));
  }
  if (suites.length === 0) {
    // Under --affected, tell "nothing changed" apart from a filter that names no package at all.
    const filterMatches =
      options.affected &&
      (options.filter.length === 0 ||
        dryRun(planRun({ ...options, affected: false, varsFile }, process.env), env).suites.length > 0);
    const outcome = emptySelection(options, filterMatches);
    (outcome.exitCode === 0 ? say : complain)(outcome.message);
    return outcome.exitCode;
  }

  if (plan.mode === "cluster") {
    const declarations = await selectedDeclarations(root, suites, builds);
    if (!declarations) return EXIT.failed;
    const missing = missingVariables(
      declarations.map((d) => d.declaration),
      env,
    );
    if (missing.length > 0) {
      const narrowed = options.filter.length > 0 || options.affected;
      complain(missingVariablesMessage(missing, narrowed ? suites.map((s) => s.name) : []));
      return EXIT.usage;
    }
    // What "real" means for this run: every selected service's dependencies and their redacted targets.
    for (const { declaration } of declarations) {
      for (const [name, dependency] of Object.entries(declaration.dependencies)) {
        say(
          `  ${declaration.service}.${name} (${dependency.kind}) -> ${dependency.describeTarget(env) || "(unset)"}`,
        );
      }
    }
    const silent = options.dryRun ? [] : await unreachableTargets(declarations, env);
    if (silent.length > 0) {
      complain(
        `${silent.length} cluster target${silent.length === 1 ? " does" : "s do"} not answer; nothing ran:`,
      );
      for (const { variable, result } of silent) {
        console.error(`  - ${variable}: ${result.detail}`);
        if (result.fix) console.error(`    fix: ${result.fix}`);
      }
      console.error("  (pnpm test:integration doctor --mode cluster shows every dependency's state)");
      return EXIT.failed;
    }
  }

  let engines: OwnedSupervisor | undefined;
  if (plan.mode === "local" && !options.dryRun) {
    // Local mode fails here, before any suite, when an engine is missing; a Go-built one is built now.
    const declarations = await selectedDeclarations(root, suites, builds);
    if (!declarations) return EXIT.failed;
    const kinds = enginesNeeded(declarations.map((d) => d.declaration));
    const problems = await prepareEngines(kinds, env);
    if (problems.length > 0) {
      complain(
        `local mode cannot start ${problems.length === 1 ? "an engine" : "these engines"}; nothing ran:`,
      );
      for (const problem of problems) console.error(`  - ${problem}`);
      console.error("  (pnpm test:integration doctor --mode local shows every engine's state)");
      return EXIT.failed;
    }
    // One supervisor for the whole run: every package, test file and worker shares its engines. It stops
    // them when this process ends, however it ends.
    engines = await startSupervisor(env, { keepAlive: true });
    env[LOCAL_ENGINES_VARIABLE] = engines.url;
    say(`engines: ${kinds.join(", ") || "none"} (started on first use, one of each for the run)`);
  }

  const replayed = new Set(
    plan.turboArgs.includes("--force") ? [] : suites.filter((s) => s.cached).map((s) => s.name),
  );
  if (options.dryRun) {
    say(`would run: turbo ${plan.turboArgs.join(" ")}`);
    if (replayed.size > 0)
      say(`turbo would replay cached results for: ${[...replayed].join(", ")} (--force runs them)`);
    return EXIT.passed;
  }

  const artifacts = resolveArtifactsDir(env);
  const folders = [...new Set(suites.map(artifactsNameOf))];
  // This run's files only: the mode's JUnit files and the events log start empty (a replay restores both);
  // a shard keeps the other shards of its split.
  for (const folder of folders) {
    const dir = join(artifacts, folder);
    if (!existsSync(dir)) continue;
    for (const name of staleResultFiles(readdirSync(dir), plan.mode, shard))
      rmSync(join(dir, name), { force: true });
  }
  const turbo = spawnSync("pnpm", ["exec", "turbo", ...plan.turboArgs], { stdio: "inherit", env });
  const engineStats = await engines?.stop();
  const total = printSummary(
    plan.mode,
    artifacts,
    folders,
    new Set(suites.filter((s) => replayed.has(s.name)).map(artifactsNameOf)),
    shard,
  );
  if (engineStats) for (const line of describeEngines(engineStats)) console.log(`  ${line}`);
  writeSummaries(plan.mode, artifacts, suites, replayed);
  say(`per-service summaries: ${folders.map((f) => `artifacts/${f}/summary.json`).join(", ")}`);
  say(`${plan.mode} lane: ${((performance.now() - started) / 1000).toFixed(1)} s wall time`);
  if (replayed.size > 0) {
    say(
      `replayed from turbo's cache, not run again (nothing they depend on changed): ${[...replayed].join(", ")}. ` +
        "Pass --force to run them again.",
    );
  }
  if (shardFiles === 0) {
    say(`shard ${options.shard} holds no test file (more shards than files): nothing to run.`);
    return turbo.status === 0 ? EXIT.passed : EXIT.failed;
  }
  // A failed test still took its time: record whatever JUnit the run wrote.
  if (options.recordTimings) recordTimings(root, plan.mode, artifacts, suites);
  // A shard may hold only suites another mode runs; it ran when it reported them as not run.
  if (total.passed + total.failed === 0 && !(shard && total.skipped > 0)) {
    complain(`no integration test ran in ${plan.mode} mode; check each package's test:integration script.`);
    return EXIT.failed;
  }
  return turbo.status === 0 && total.failed === 0 ? EXIT.passed : EXIT.failed;
}

const program = new Command("test:integration")
  .description("Run the integration suites of every package (or the selected ones) in one mode.")
  .addOption(
    new Option(
      "--mode <mode>",
      "what every dependency is: in-process doubles, plus local engines, or live services (default: INTEGRATION_MODE, else repo)",
    ).choices(INTEGRATION_MODES),
  )
  .option(
    "--filter <pattern>",
    "turbo filter, e.g. @org/threads or ./services/*; repeatable",
    (v, all: string[]) => [...all, v],
    [],
  )
  .option("--affected", "only packages changed against the base ref, and their dependents", false)
  .option("--base <ref>", "the base ref for --affected (default: turbo's, main)")
  .option("--smoke", "only each suite's smoke subset (tests tagged @smoke)", false)
  .option("--force", "run every suite even when turbo holds a result for the same inputs", false)
  .option(
    "--vars-file <path>",
    "read variables from a file (e.g. .env.integration); the environment's own values win",
  )
  // The old spelling: Node 20 claims --env-file in any node process's arguments, so it only works after a `--`.
  .addOption(new Option("--env-file <path>").hideHelp())
  .option("--dry-run", "print the plan and the selected packages, run nothing", false)
  .option(
    "--shard <i/n>",
    "run the i-th of n disjoint parts of the selected suites' test files (balanced by the committed timings)",
  )
  .option(
    "--record-timings",
    `write this run's per-file times into ${TIMINGS_FILE}, which --shard balances by`,
    false,
  )
  .addHelpText(
    "after",
    "\nExit codes: 0 every selected suite passed, or nothing was affected; 1 a test failed, none ran, or a cluster target\n" +
      "does not answer; 2 the command line, INTEGRATION_MODE or the cluster variables are wrong.\n" +
      "\nExamples:\n  pnpm test:integration\n" +
      "  pnpm test:integration --mode=cluster --vars-file .env.integration --filter @org/threads\n" +
      "  pnpm test:integration --affected --base origin/main --smoke\n" +
      "  pnpm test:integration --shard 1/2   (and --shard 2/2 on another machine)\n" +
      "  pnpm test:integration doctor --mode cluster --vars-file .env.integration",
  )
  .enablePositionalOptions()
  .showHelpAfterError()
  .exitOverride((error) => {
    const shown =
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.help" ||
      error.code === "commander.version";
    process.exit(shown ? EXIT.passed : EXIT.usage);
  })
  .action(async (options: CliOptions) => {
    try {
      process.exitCode = await run(options);
    } catch (error) {
      if (!isTestSupportError(error)) throw error;
      console.error(error.message);
      process.exitCode = EXIT.usage;
    }
  });

program
  .command("doctor")
  .description(
    "for every service: its dependencies, which variables are set or missing, and whether their targets answer",
  )
  .addOption(
    new Option(
      "--mode <mode>",
      "the mode to check readiness for (default: INTEGRATION_MODE, else repo)",
    ).choices(INTEGRATION_MODES),
  )
  .option("--vars-file <path>", "read variables from a file first (the environment's own values win)")
  .addOption(new Option("--env-file <path>").hideHelp())
  .action(async (options: { mode?: IntegrationMode; varsFile?: string; envFile?: string }) => {
    let plan: RunPlan;
    try {
      plan = planRun(
        { mode: options.mode, filter: [], affected: false, smoke: false, varsFile: varsFileOf(options) },
        process.env,
      );
    } catch (error) {
      if (!isTestSupportError(error)) throw error;
      console.error(error.message);
      process.exitCode = EXIT.usage;
      return;
    }
    // Every package's declaration; a clone that was never built builds first (see selectedDeclarations).
    const root = workspaceRoot();
    const neverBuilt = ["packages", "services"].flatMap((group) =>
      existsSync(join(root, group))
        ? readdirSync(join(root, group)).filter((name) => {
            const dir = join(root, group, name);
            const manifest = join(dir, "package.json");
            if (!existsSync(manifest) || existsSync(join(dir, "dist"))) return false;
            return Boolean(
              (JSON.parse(readFileSync(manifest, "utf8")) as { scripts?: { build?: string } }).scripts?.build,
            );
          })
        : [],
    );
    if (neverBuilt.length > 0) {
      console.log(
        `[doctor] building first (never built: ${neverBuilt.join(", ")}), so the declarations load`,
      );
      if (!build(["./packages/*", "./services/*"])) {
        process.exitCode = EXIT.failed;
        return;
      }
    }
    const declarations = (
      await loadPackageDeclarations(root, (problem) => console.log(`[doctor] ${problem}`))
    ).map((d) => d.declaration);
    const ready = await doctor(declarations, plan.mode, { ...process.env, ...plan.env }, (line) =>
      console.log(line),
    );
    process.exitCode = ready ? EXIT.passed : EXIT.failed;
  });

const collect = (value: string, all: string[]) => [...all, value];

program
  .command("sweep")
  .description(
    "remove what dead runs left on the live servers (schemas, keys, stores whose lease expired); nothing else",
  )
  .option("--dry-run", "list what would be removed, remove nothing", false)
  .option("--vars-file <path>", "read variables from a file first (the environment's own values win)")
  .addOption(new Option("--env-file <path>").hideHelp())
  .option(
    "--postgres <url>",
    "a PostgreSQL database to sweep (repeatable); default: the declarations' variables",
    collect,
    [],
  )
  .option("--redis <url>", "a Redis database to sweep (repeatable)", collect, [])
  .option("--openfga <url>", "an OpenFGA API to sweep (repeatable)", collect, [])
  .option("--temporal <host:port/namespace>", "a Temporal namespace to sweep (repeatable)", collect, [])
  .action(
    async (options: {
      dryRun: boolean;
      varsFile?: string;
      envFile?: string;
      postgres: string[];
      redis: string[];
      openfga: string[];
      temporal: string[];
    }) => {
      let env: EnvironmentVariables;
      try {
        const file = varsFileOf(options);
        env = { ...(file ? readVarsFile(file) : {}), ...process.env };
      } catch (error) {
        if (!isTestSupportError(error)) throw error;
        console.error(error.message);
        process.exitCode = EXIT.usage;
        return;
      }
      const named: SweepTarget[] = SWEPT_KINDS.flatMap((kind: SweptKind) =>
        options[kind].map((url) => ({ kind, url, source: `--${kind}` })),
      );
      let targets = named;
      if (named.length === 0) {
        const declarations = (
          await loadPackageDeclarations(workspaceRoot(), (problem) => console.log(`[sweep] ${problem}`))
        ).map((d) => d.declaration);
        targets = sweepTargetsOf(declarations, env);
      }
      const timeoutMs = Number(env.INTEGRATION_OPERATION_TIMEOUT_MS) || 10_000;
      const { ok } = await sweep(
        targets,
        { dryRun: options.dryRun, timeoutMs, processLeases: processLeaseDir(env) },
        (line) => console.log(line),
      );
      process.exitCode = ok ? EXIT.passed : EXIT.failed;
    },
  );

program.addCommand(
  driftCommand(() => ({ root: workspaceRoot(), artifactsDir: resolveArtifactsDir(process.env) })),
);

// Node 20 scans every process's whole argv for its own --env-file, pnpm's included, so the old spelling
// must follow a "--" (pnpm test:integration -- --env-file F). This command takes no operands, so a "--"
// never means anything here and is dropped.
await program.parseAsync(process.argv.filter((arg, index) => index < 2 || arg !== "--"));
