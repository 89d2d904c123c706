// `pnpm test:integration`: runs every package's integration suites in one mode through turbo.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { isTestSupportError } from "../errors.js";
import { INTEGRATION_MODES, type IntegrationMode } from "../mode.js";
import { resolveArtifactsDir } from "../telemetry.js";
import { loadDeclarations } from "./declarations.js";
import { doctor } from "./doctor.js";
import { closingLine, countJUnit, type JUnitCounts, junitSeconds, notRunInMode } from "./junit-summary.js";
import { planRun, type RunOptions } from "./plan.js";

const isModeFile = (name: string, mode: IntegrationMode) =>
  name.startsWith("junit-") && name.endsWith(`-${mode}.xml`);

function forEachModeFile(
  artifacts: string,
  mode: IntegrationMode,
  visit: (service: string, file: string) => void,
) {
  if (!existsSync(artifacts)) return;
  for (const service of readdirSync(artifacts, { withFileTypes: true })) {
    if (!service.isDirectory()) continue;
    for (const name of readdirSync(join(artifacts, service.name))) {
      if (isModeFile(name, mode)) visit(service.name, join(artifacts, service.name, name));
    }
  }
}

/** Exit codes: 0 every selected suite passed; 1 a test failed or nothing ran; 2 the command line was wrong. */
const EXIT = { passed: 0, failed: 1, usage: 2 } as const;

function selectedPackages(lsArgs: string[], env: NodeJS.ProcessEnv): string[] {
  const ls = spawnSync("pnpm", ["exec", "turbo", ...lsArgs], { env, encoding: "utf8" });
  try {
    return (JSON.parse(ls.stdout) as { packages: { items: { name: string }[] } }).packages.items.map(
      (p) => p.name,
    );
  } catch {
    return [];
  }
}

function summarize(mode: IntegrationMode, artifacts: string): JUnitCounts {
  const perService = new Map<string, JUnitCounts>();
  const notRun = new Map<string, string[]>();
  const seconds = new Map<string, number>();
  forEachModeFile(artifacts, mode, (service, file) => {
    const xml = readFileSync(file, "utf8");
    const counts = countJUnit(xml);
    seconds.set(service, (seconds.get(service) ?? 0) + junitSeconds(xml));
    notRun.set(service, [...(notRun.get(service) ?? []), ...notRunInMode(xml)]);
    const sum = perService.get(service) ?? { passed: 0, failed: 0, skipped: 0 };
    perService.set(service, {
      passed: sum.passed + counts.passed,
      failed: sum.failed + counts.failed,
      skipped: sum.skipped + counts.skipped,
    });
  });
  const total: JUnitCounts = { passed: 0, failed: 0, skipped: 0 };
  console.log(`\n[test:integration] ${mode} mode summary`);
  for (const [service, counts] of perService) {
    console.log(`  ${service}: ${closingLine(counts)} in ${(seconds.get(service) ?? 0).toFixed(1)} s`);
    // One line per suite that did not run: its name up to the reason, and how many tests it holds.
    const suites = new Map<string, number>();
    for (const name of notRun.get(service) ?? []) {
      const suite = name.slice(0, name.indexOf("]") + 1) || name;
      suites.set(suite, (suites.get(suite) ?? 0) + 1);
    }
    for (const [suite, count] of suites) console.log(`    not run: ${suite} (${count} tests)`);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  console.log(`  total: ${closingLine(total)}`);
  return total;
}

const program = new Command("test:integration")
  .description("Run the integration suites of every package (or the selected ones) in one mode.")
  .addOption(
    new Option(
      "--mode <mode>",
      "what every dependency is: in-process doubles, plus local engines, or live services",
    )
      .choices(INTEGRATION_MODES)
      .default("repo"),
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
  .option(
    "--env-file <path>",
    "read variables from a file (e.g. .env.integration); the environment's own values win",
  )
  .option("--dry-run", "print the plan and the selected packages, run nothing", false)
  .addHelpText(
    "after",
    "\nExit codes: 0 every selected suite passed, 1 a test failed or none ran, 2 the command line was wrong.\n" +
      "\nExamples:\n  pnpm test:integration\n  pnpm test:integration -- --mode=cluster --env-file .env.integration --filter @org/threads\n" +
      "  pnpm test:integration --affected --base origin/main --smoke",
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
  .action(async (options: RunOptions & { dryRun: boolean }) => {
    let plan: ReturnType<typeof planRun>;
    try {
      plan = planRun(options, process.env);
    } catch (error) {
      if (!isTestSupportError(error)) throw error;
      console.error(error.message);
      process.exitCode = EXIT.usage;
      return;
    }
    const env = { ...process.env, ...plan.env };
    const packages = selectedPackages(plan.lsArgs, env);
    console.log(`[test:integration] mode: ${plan.mode}${options.smoke ? " (smoke subset)" : ""}`);
    console.log(
      `[test:integration] packages: ${packages.length > 0 ? packages.join(", ") : "none selected"}`,
    );
    if (plan.fromEnvFile.length > 0)
      console.log(`[test:integration] from ${options.envFile}: ${plan.fromEnvFile.join(", ")}`);
    if (plan.mode === "cluster") {
      // What "real" means for this run: every selected service's dependencies and their redacted targets.
      const root = resolveArtifactsDir({}).replace(/\/artifacts$/, "");
      const services = new Set(packages.map((name) => name.replace(/^@org\//, "")));
      const declarations = await loadDeclarations(root, (problem) =>
        console.log(`[test:integration]   ${problem}`),
      );
      for (const { service, dependencies } of declarations) {
        if (!services.has(service)) continue;
        for (const [name, dependency] of Object.entries(dependencies)) {
          console.log(
            `[test:integration]   ${service}.${name} (${dependency.kind}) -> ${dependency.describeTarget(env) || "(unset)"}`,
          );
        }
      }
    }
    if (options.dryRun) {
      console.log(`[test:integration] would run: turbo ${plan.turboArgs.join(" ")}`);
      return;
    }
    if (packages.length === 0) {
      console.error("[test:integration] no package is selected; check --filter and --affected.");
      process.exitCode = EXIT.failed;
      return;
    }
    const artifacts = resolveArtifactsDir({});
    forEachModeFile(artifacts, plan.mode, (_, file) => rmSync(file));
    const turbo = spawnSync("pnpm", ["exec", "turbo", ...plan.turboArgs], { stdio: "inherit", env });
    const total = summarize(plan.mode, artifacts);
    if (total.passed + total.failed === 0) {
      console.error(
        `[test:integration] no integration test ran in ${plan.mode} mode; check each package's test:integration script.`,
      );
      process.exitCode = EXIT.failed;
      return;
    }
    process.exitCode = turbo.status === 0 && total.failed === 0 ? EXIT.passed : EXIT.failed;
  });

program
  .command("doctor")
  .description(
    "for every service: its dependencies, which variables are set or missing, and whether their targets answer",
  )
  .addOption(
    new Option("--mode <mode>", "the mode to check readiness for").choices(INTEGRATION_MODES).default("repo"),
  )
  .option("--env-file <path>", "read variables from a file first (the environment's own values win)")
  .action(async (options: { mode: IntegrationMode; envFile?: string }) => {
    let env: NodeJS.ProcessEnv = process.env;
    try {
      env = {
        ...process.env,
        ...planRun(
          { mode: options.mode, filter: [], affected: false, smoke: false, envFile: options.envFile },
          process.env,
        ).env,
      };
    } catch (error) {
      if (!isTestSupportError(error)) throw error;
      console.error(error.message);
      process.exitCode = EXIT.usage;
      return;
    }
    const root = resolveArtifactsDir({}).replace(/\/artifacts$/, "");
    const declarations = await loadDeclarations(root, (problem) => console.log(`[doctor] ${problem}`));
    const ready = await doctor(declarations, options.mode, env, (line) => console.log(line));
    process.exitCode = ready ? EXIT.passed : EXIT.failed;
  });

// Node 20 scans every process's whole argv for its own --env-file, pnpm's included, so on Node 20 the
// option must follow a "--" (pnpm test:integration -- --env-file F). This command takes no operands, so
// a "--" never means anything here and is dropped.
await program.parseAsync(process.argv.filter((arg, index) => index < 2 || arg !== "--"));
