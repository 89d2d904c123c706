// `pnpm test:integration drift`: compares two modes' (or a mode's and the recording's) traces, test by test.
import { Command, Option } from "commander";
import { isTestSupportError } from "../errors.js";
import { DRIFT_SOURCES, type DriftSource, runDrift, updateRecordings } from "../trace/drift.js";

/** The drift subcommand; `root` and `artifactsDir` are the workspace's. */
export function driftCommand(paths: () => { root: string; artifactsDir: string }): Command {
  return new Command("drift")
    .description(
      "compare two modes' traces test by test and report each drifted test's first divergent call " +
        "(artifacts/drift/<from>-vs-<to>.md and .json); exits 1 on any unexplained difference",
    )
    .addOption(
      new Option("--from <source>", "the reference: a mode's last traces, or the committed recording")
        .choices(DRIFT_SOURCES)
        .default("cluster"),
    )
    .addOption(
      new Option("--to <source>", "the side checked against it").choices(DRIFT_SOURCES).default("repo"),
    )
    .option(
      "--filter <package>",
      "only this package (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      "--update-recordings",
      "write each package's cluster traces to tests/integration/recordings/cluster.json instead of comparing",
    )
    .action(
      (options: { from: DriftSource; to: DriftSource; filter: string[]; updateRecordings?: boolean }) => {
        const { root, artifactsDir } = paths();
        const log = (line: string) => console.log(`[drift] ${line}`);
        try {
          if (options.updateRecordings) {
            log("recordings from the last cluster run:");
            process.exitCode = updateRecordings({ root, artifactsDir, filter: options.filter, log }) ? 0 : 1;
            return;
          }
          const report = runDrift({
            root,
            artifactsDir,
            from: options.from,
            to: options.to,
            filter: options.filter,
            log,
          });
          process.exitCode = report.ok ? 0 : 1;
        } catch (error) {
          if (!isTestSupportError(error)) throw error;
          console.error(error.message);
          process.exitCode = 2;
        }
      },
    );
}
