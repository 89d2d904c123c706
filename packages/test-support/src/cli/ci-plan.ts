// The CI plan: which packages' integration suites the matrix runs. A turbo dry run of test:integration
// (--affected against a base, or every package with --all) in, a GitHub matrix out: `matrix` and `any` go
// to $GITHUB_OUTPUT when it is set. Every package with integration suites is a leg, @org/test-support's own
// (the OpenFGA conformance and differential suites) included.
import { spawnSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { Command } from "commander";
import { isTestSupportError } from "../errors.js";
import { artifactsNameOf, type SelectedSuite, suitesFromDryRun } from "./plan.js";

/** One matrix entry: the package to filter on, and the folder its artifacts are filed under. */
export interface MatrixEntry {
  package: string;
  service: string;
}

/** The packages with integration suites of a dry run's selection, as a GitHub matrix in a stable order. */
export function matrixFromSuites(suites: readonly SelectedSuite[]): { include: MatrixEntry[] } {
  const include = suites
    .map((suite) => ({ package: suite.name, service: artifactsNameOf(suite) }))
    .sort((a, b) => a.service.localeCompare(b.service));
  return { include };
}

function main() {
  const program = new Command("ci:plan")
    .description("List the packages whose integration suites a change affects, as a GitHub Actions matrix.")
    .option("--base <ref>", "compare against this ref (sets TURBO_SCM_BASE)")
    .option("--all", "every package with integration suites, affected or not (nightly runs)", false)
    .action((options: { base?: string; all: boolean }) => {
      const args = [
        "exec",
        "turbo",
        "run",
        "test:integration",
        "--dry=json",
        ...(options.all ? [] : ["--affected"]),
      ];
      const env = { ...process.env, ...(options.base ? { TURBO_SCM_BASE: options.base } : {}) };
      const dry = spawnSync("pnpm", args, { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      if (dry.status !== 0) {
        console.error(`turbo could not plan (exit ${dry.status}): ${dry.stderr || dry.stdout}`);
        process.exitCode = 1;
        return;
      }
      let matrix: { include: MatrixEntry[] };
      try {
        matrix = matrixFromSuites(suitesFromDryRun(dry.stdout));
      } catch (error) {
        if (!isTestSupportError(error)) throw error;
        console.error(error.message);
        process.exitCode = 1;
        return;
      }
      const lines = [`matrix=${JSON.stringify(matrix)}`, `any=${matrix.include.length > 0}`];
      console.log(lines.join("\n"));
      if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${lines.join("\n")}\n`);
    });
  program.parse();
}

if (import.meta.url === `file://${process.argv[1]}`) main();
