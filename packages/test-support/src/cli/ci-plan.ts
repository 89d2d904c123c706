// The CI plan: which service packages the integration matrix runs. `turbo ls --affected` (or every
// package, with --all) in, a GitHub matrix out: `matrix` and `any` go to $GITHUB_OUTPUT when it is set.
import { spawnSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { Command } from "commander";

/** One matrix entry: the package to filter on, and the service name its artifacts are filed under. */
export interface MatrixEntry {
  package: string;
  service: string;
}

/** The service packages (under services/) of a `turbo ls --output=json` answer, as a GitHub matrix. */
export function matrixFromTurboLs(lsJson: string): { include: MatrixEntry[] } {
  let parsed: { packages?: { items?: { name: string; path: string }[] } };
  try {
    parsed = JSON.parse(lsJson);
  } catch {
    throw new Error(`turbo ls did not answer JSON: ${lsJson.slice(0, 200)}`);
  }
  const include = (parsed.packages?.items ?? [])
    .filter((item) => item.path.replace(/\\/g, "/").startsWith("services/"))
    .map((item) => ({ package: item.name, service: item.path.split(/[\\/]/).pop() as string }))
    .sort((a, b) => a.service.localeCompare(b.service));
  return { include };
}

function main() {
  const program = new Command("ci:plan")
    .description("List the affected service packages as a GitHub Actions matrix.")
    .option("--base <ref>", "compare against this ref (sets TURBO_SCM_BASE)")
    .option("--all", "every service package, affected or not (nightly runs)", false)
    .action((options: { base?: string; all: boolean }) => {
      const args = ["exec", "turbo", "ls", "--output=json", ...(options.all ? [] : ["--affected"])];
      const env = { ...process.env, ...(options.base ? { TURBO_SCM_BASE: options.base } : {}) };
      const ls = spawnSync("pnpm", args, { env, encoding: "utf8" });
      if (ls.status !== 0) {
        console.error(`turbo ls failed (${ls.status}): ${ls.stderr}`);
        process.exitCode = 1;
        return;
      }
      const matrix = matrixFromTurboLs(ls.stdout);
      const lines = [`matrix=${JSON.stringify(matrix)}`, `any=${matrix.include.length > 0}`];
      console.log(lines.join("\n"));
      if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${lines.join("\n")}\n`);
    });
  program.parse();
}

if (import.meta.url === `file://${process.argv[1]}`) main();
