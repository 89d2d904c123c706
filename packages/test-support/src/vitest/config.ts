import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { ViteUserConfig } from "vitest/config";
import { selectedFiles, shardFromEnv, shardLabel } from "../cli/shard.js";
import { integrationModeFrom } from "../mode.js";
import { resolveArtifactsDir } from "../telemetry.js";

/** Built output of this monorepo's own packages (reached through workspace links, so outside node_modules). */
const WORKSPACE_DIST = /\/(packages|services)\/[^/]+\/dist\//;

/** The global set-up next to this file: the built .js, or the .ts source in this package's own runs. */
function globalSetupFile(): string {
  const js = fileURLToPath(new URL("./global-setup.js", import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL("./global-setup.ts", import.meta.url));
}

/**
 * The Vitest config of a package's integration suites: tests/integration/** as the "integration" project
 * with generous timeouts, and JUnit at artifacts/<service>/junit-<mode>.xml so every mode is filed apart.
 * `root` is the package folder (pass `new URL(".", import.meta.url)`); `unit` adds a unit project.
 */
export function integrationConfig(options: { service: string; root: URL; unit?: string[] }): ViteUserConfig {
  const root = fileURLToPath(options.root);
  const workspace = resolveArtifactsDir({}, root);
  const artifacts = `${workspace}/${options.service}`;
  const mode = integrationModeFrom();
  // pnpm test:integration --shard i/n: only this shard's files; a package with none in it passes empty.
  const shard = shardFromEnv();
  const selected = selectedFiles(relative(dirname(workspace), root));
  // Each test's calls to its dependencies, for the drift harness (a shard's apart); INTEGRATION_TRACE=0 turns it off.
  const traceFile =
    process.env.INTEGRATION_TRACE === "0"
      ? ""
      : `${artifacts}/trace-${shard ? `${shardLabel(shard)}-` : ""}${mode}.jsonl`;
  const projects: NonNullable<NonNullable<ViteUserConfig["test"]>["projects"]> = [
    {
      extends: true,
      test: {
        name: "integration",
        include: selected ?? ["tests/integration/**/*.test.ts"],
        testTimeout: 30_000,
        // Local mode: a file's set-up may be the run's first use of an engine (the Temporal dev server took
        // 23 s to start on a loaded 2-core machine) plus a cold workflow bundle; the factory's own bounds
        // still name what is slow.
        hookTimeout: mode === "local" ? 180_000 : 60_000,
        setupFiles: [sibling("trace-setup")],
        // Merged with the root's (local mode's engine supervisor): Vite's mergeConfig concatenates arrays.
        globalSetup: [sibling("trace-global-setup")],
        provide: { integrationTraceFile: traceFile },
      },
    },
  ];
  // Unit tests assert behaviour, not speed; the bound only catches a hang, so it must survive a loaded
  // 2-core CI machine (parsing the OpenFGA conformance YAML once took longer than Vitest's default 5 s).
  if (options.unit)
    projects.unshift({ extends: true, test: { name: "unit", include: options.unit, testTimeout: 20_000 } });
  // pnpm test:integration --smoke sets INTEGRATION_SMOKE: only tests tagged @smoke in their names run.
  const smoke = process.env.INTEGRATION_SMOKE === "1";
  return {
    test: {
      // One worker per core. Vitest's own default leaves a core free (one worker on a 2-core CI machine), which
      // ran a package's files one after another: test-support's integration files took 49.6 s with 1 worker
      // and 31.3 s with 2 on this project's 2-core machine. Each file still runs in its own forked process, so
      // isolation between files is unchanged; `--maxWorkers` on the command line still overrides this.
      maxWorkers: availableParallelism(),
      ...(smoke ? { testNamePattern: "@smoke" } : {}),
      // A shard can hold no file of this package: that is a pass, not "no test files found".
      ...(selected ? { passWithNoTests: true } : {}),
      projects,
      // A workspace package's dist is already JavaScript: Node loads it natively, as it does any package
      // from node_modules, instead of Vite transforming and evaluating it again in every test file.
      // Isolation between files is unchanged: each file still gets a module graph of its own.
      server: { deps: { external: [WORKSPACE_DIST] } },
      // The mode is in the file name, the suite name and every class name, so CI shows modes apart.
      reporters: [
        "default",
        [
          "junit",
          {
            suiteName: `${options.service} integration-${mode}`,
            classnameTemplate: `integration-${mode}:{filename}`,
          },
        ],
      ],
      // A unit run passes --outputFile.junit of its own; integration runs are filed under their mode.
      outputFile: { junit: `${artifacts}/junit-${shard ? `${shardLabel(shard)}-` : ""}${mode}.xml` },
      // Local mode: one supervisor of the run's engines for every file and worker (see global-setup.ts).
      ...(mode === "local" ? { globalSetup: [globalSetupFile()] } : {}),
    },
  };
}

/** A module beside this one: .ts when running from source (this package's own tests), else the built .js. */
function sibling(name: string): string {
  const source = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  return existsSync(source) ? source : fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}
