import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { isTestSupportError } from "../errors.js";
import { INTEGRATION_MODE_VARIABLE, INTEGRATION_MODES, type IntegrationMode } from "../mode.js";
import { planRun, readVarsFile } from "./plan.js";

const folder = mkdtempSync(join(tmpdir(), "plan-properties-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let files = 0;
const write = (text: string) => {
  const path = join(folder, `vars-${files++}.env`);
  writeFileSync(path, text);
  return path;
};

const mode = fc.constantFrom(...INTEGRATION_MODES);
const variableName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,15}$/);
// Values a KEY=value line carries as they are, unquoted (no quotes, "#", spaces or line breaks).
const plainValue = fc.stringMatching(/^[A-Za-z0-9_\-.:/@%+=,]{0,30}$/);

describe("the runner's options, for any combination", () => {
  it("--mode and INTEGRATION_MODE: the one given wins, both equal agree, both different is MODE_CONFLICT, neither is repo", () => {
    fc.assert(
      fc.property(
        fc.option(mode, { nil: undefined }),
        fc.option(fc.oneof(mode, fc.string()), { nil: undefined }),
        (flag, variable) => {
          const env = variable === undefined ? {} : { INTEGRATION_MODE: variable };
          const valid = variable === undefined || (INTEGRATION_MODES as readonly string[]).includes(variable);
          let plan: ReturnType<typeof planRun> | undefined;
          let thrown: unknown;
          try {
            plan = planRun({ mode: flag, filter: [], affected: false, smoke: false }, env);
          } catch (error) {
            thrown = error;
          }
          if (!valid) {
            expect(isTestSupportError(thrown, "INVALID_MODE")).toBe(true);
            return;
          }
          if (flag !== undefined && variable !== undefined && flag !== variable) {
            expect(isTestSupportError(thrown, "MODE_CONFLICT")).toBe(true);
            expect((thrown as Error).message).toContain(`--mode=${flag}`);
            expect((thrown as Error).message).toContain(`INTEGRATION_MODE=${variable}`);
            return;
          }
          const expected = (flag ?? variable ?? "repo") as IntegrationMode;
          expect(plan?.mode).toBe(expected);
          expect(plan?.env[INTEGRATION_MODE_VARIABLE]).toBe(expected);
          expect(plan?.turboArgs.includes("--force")).toBe(expected === "cluster");
        },
      ),
      { numRuns: 400 },
    );
  });

  it("every --filter reaches turbo once, in order, in the run, the listing and the dry run", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1 }), { maxLength: 5 }),
        fc.boolean(),
        (filter, affected) => {
          const plan = planRun({ filter, affected, smoke: false }, {});
          const expected = filter.map((f) => `--filter=${f}`);
          for (const args of [plan.turboArgs, plan.lsArgs, plan.dryRunArgs]) {
            expect(args.filter((a) => a.startsWith("--filter="))).toEqual(expected);
            expect(args.includes("--affected")).toBe(affected);
          }
        },
      ),
    );
  });
});

describe("--vars-file, for any file", () => {
  it("fills in exactly the variables the environment does not set, never INTEGRATION_MODE", () => {
    fc.assert(
      fc.property(
        fc.dictionary(variableName, plainValue, { maxKeys: 8 }),
        fc.dictionary(variableName, fc.string(), { maxKeys: 4 }),
        fc.option(mode, { nil: undefined }),
        (file, caller, fileMode) => {
          const lines = Object.entries(file).map(([key, value]) => `${key}=${value}`);
          if (fileMode) lines.push(`INTEGRATION_MODE=${fileMode}`);
          const path = write(`${lines.join("\n")}\n`);
          const callerEnv = { ...caller };
          delete (callerEnv as Record<string, string>).INTEGRATION_MODE;
          const plan = planRun({ filter: [], affected: false, smoke: false, varsFile: path }, callerEnv);
          const expectedKeys = Object.keys(file).filter((k) => k !== "INTEGRATION_MODE" && !(k in callerEnv));
          expect(plan.fromVarsFile.sort()).toEqual(expectedKeys.sort());
          for (const key of expectedKeys) expect(plan.env[key]).toBe(file[key]);
          for (const key of Object.keys(callerEnv))
            if (key !== "INTEGRATION_MODE") expect(key in plan.env).toBe(false);
          expect(plan.mode).toBe("repo");
          expect(plan.ignoredFromVarsFile).toEqual(
            fileMode || "INTEGRATION_MODE" in file ? ["INTEGRATION_MODE"] : [],
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("reads any text without throwing, and a file that cannot be read is a usage error naming it", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const parsed = readVarsFile(write(text));
        for (const value of Object.values(parsed)) expect(typeof value).toBe("string");
      }),
      { numRuns: 200 },
    );
    const missing = join(folder, "does-not-exist.env");
    expect(() => readVarsFile(missing)).toThrow(`--vars-file ${missing} cannot be read`);
  });
});
