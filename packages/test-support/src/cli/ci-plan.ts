// The CI plan: which packages' integration suites the matrix runs. A turbo dry run of test:integration
// (--affected against a base, or every package with --all) in, a GitHub matrix out: `matrix` and `any` go
// to $GITHUB_OUTPUT when it is set. Every package with integration suites is a leg, @org/test-support's own
// (the OpenFGA conformance and differential suites) included. A package whose package.json sets
// `"integration": { "shards": n }` becomes n legs, each running `--shard i/n`.
import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { isTestSupportError, TestSupportError } from "../errors.js";
import { artifactsNameOf, type SelectedSuite, suitesFromDryRun } from "./plan.js";
import { MAX_SHARDS } from "./shard.js";

/** One matrix entry: the package to filter on, the folder its artifacts are filed under, and its shard. */
export interface MatrixEntry {
  package: string;
  service: string;
  /** `i/n` for one shard of a sharded package; empty when the package runs whole. */
  shard: string;
  /** A name unique among the legs, for job and artifact names: the service, and its shard. */
  leg: string;
}

/** A package's `integration.shards` (1 when unset); anything but a whole number from 1 to 64 is an error. */
export function shardsOf(manifest: { name?: string; integration?: { shards?: unknown } }): number {
  const shards = manifest.integration?.shards;
  if (shards === undefined) return 1;
  if (typeof shards !== "number" || !Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${manifest.name ?? "a package"}: integration.shards in its package.json is ${JSON.stringify(shards)}; ` +
        `write a whole number from 1 to ${MAX_SHARDS} (how many CI legs split its integration suites).`,
    );
  }
  return shards;
}

/** The packages with integration suites of a dry run's selection, as a GitHub matrix in a stable order. */
export function matrixFromSuites(
  suites: readonly SelectedSuite[],
  shards: (suite: SelectedSuite) => number = () => 1,
): { include: MatrixEntry[] } {
  const include = [...suites]
    .sort((a, b) => artifactsNameOf(a).localeCompare(artifactsNameOf(b)))
    .flatMap((suite) => {
      const service = artifactsNameOf(suite);
      const count = shards(suite);
      if (count === 1) return [{ package: suite.name, service, shard: "", leg: service }];
      return Array.from({ length: count }, (_, i) => ({
        package: suite.name,
        service,
        shard: `${i + 1}/${count}`,
        leg: `${service}-shard-${i + 1}-of-${count}`,
      }));
    });
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
        matrix = matrixFromSuites(suitesFromDryRun(dry.stdout), (suite) =>
          shardsOf(JSON.parse(readFileSync(join(suite.path, "package.json"), "utf8"))),
        );
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
