// `pnpm test:integration`: runs every package's integration suites in one mode through turbo.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { INTEGRATION_MODE_VARIABLE, INTEGRATION_MODES, type IntegrationMode } from "../mode.js";
import { resolveArtifactsDir } from "../telemetry.js";
import { closingLine, countJUnit, type JUnitCounts, notRunInMode } from "./junit-summary.js";

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

const program = new Command("test:integration")
  .description("Run the integration suites of every package (or the filtered ones) in one mode.")
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
    "turbo filter, e.g. @org/test-support or ./services/*; repeatable",
    (v, all: string[]) => [...all, v],
    [],
  )
  .addHelpText(
    "after",
    "\nExamples:\n  pnpm test:integration\n  pnpm test:integration --mode=cluster --filter @org/test-support",
  )
  .showHelpAfterError()
  .action((options: { mode: IntegrationMode; filter: string[] }) => {
    const { mode, filter } = options;
    const artifacts = resolveArtifactsDir({});
    forEachModeFile(artifacts, mode, (_, file) => rmSync(file));
    console.log(
      `[test:integration] mode: ${mode}; packages: ${filter.length > 0 ? filter.join(", ") : "all"}`,
    );
    const args = [
      "exec",
      "turbo",
      "run",
      "test:integration",
      "--continue",
      ...filter.map((f) => `--filter=${f}`),
    ];
    // Live results depend on the services' state, so a cluster run never replays a cached result.
    if (mode === "cluster") args.push("--force");
    const turbo = spawnSync("pnpm", args, {
      stdio: "inherit",
      env: { ...process.env, [INTEGRATION_MODE_VARIABLE]: mode },
    });

    const perService = new Map<string, JUnitCounts>();
    const notRun = new Map<string, string[]>();
    forEachModeFile(artifacts, mode, (service, file) => {
      const xml = readFileSync(file, "utf8");
      const counts = countJUnit(xml);
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
      console.log(`  ${service}: ${closingLine(counts)}`);
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
    if (total.passed + total.failed === 0) {
      console.error(
        `[test:integration] no integration test ran in ${mode} mode; check the --filter and each package's test:integration script.`,
      );
      process.exitCode = 1;
      return;
    }
    process.exitCode = turbo.status === 0 && total.failed === 0 ? 0 : 1;
  });

program.parse();
