import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isTestSupportError } from "../errors.js";
import {
  fileSecondsFromJUnit,
  integrationFiles,
  nodeTestSeconds,
  parseShard,
  planShards,
  type ShardFile,
  selectedFiles,
  selectionOf,
  staleResultFiles,
  withRecordedTimings,
  writeSelection,
} from "./shard.js";

const key = (f: ShardFile) => `${f.packagePath}|${f.file}`;

const fileArb = fc.record({
  packagePath: fc.constantFrom(
    "packages/test-support",
    "services/platform",
    "services/threads",
    "services/workflows",
  ),
  file: fc.stringMatching(/^tests\/integration\/[a-z]{1,6}\.test\.ts$/),
});
const filesArb = fc.uniqueArray(fileArb, { selector: key, maxLength: 40 });
/** Timings for some of the files (a refreshed file may lack new ones), in seconds. */
const timingsFor = (files: ShardFile[]) =>
  fc
    .array(fc.option(fc.double({ min: 0, max: 120, noNaN: true }), { nil: undefined }), {
      minLength: files.length,
      maxLength: files.length,
    })
    .map((seconds) => {
      const timings: Record<string, Record<string, number>> = {};
      files.forEach((f, i) => {
        const s = seconds[i];
        if (s !== undefined) timings[f.packagePath] = { ...timings[f.packagePath], [f.file]: s };
      });
      return timings;
    });
const caseArb = filesArb.chain((files) =>
  fc.record({
    files: fc.constant(files),
    count: fc.integer({ min: 1, max: 64 }),
    timings: fc.option(timingsFor(files), { nil: undefined }),
  }),
);

describe("planShards", () => {
  it("splits into disjoint shards whose union is exactly the input, for any files, count and timings", () => {
    fc.assert(
      fc.property(caseArb, ({ files, count, timings }) => {
        const shards = planShards(files, count, timings);
        expect(shards).toHaveLength(count);
        const all = shards.flat().map(key);
        expect(new Set(all).size).toBe(all.length); // disjoint
        expect([...all].sort()).toEqual(files.map(key).sort()); // the union is the whole
      }),
      { numRuns: 300 },
    );
  });

  it("plans the same shards whatever order the files are listed in, so every machine agrees", () => {
    fc.assert(
      fc.property(
        caseArb.chain((c) =>
          fc.record({
            c: fc.constant(c),
            shuffled: fc.shuffledSubarray(c.files, { minLength: c.files.length }),
          }),
        ),
        ({ c, shuffled }) => {
          expect(planShards(shuffled, c.count, c.timings)).toEqual(planShards(c.files, c.count, c.timings));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("balances by file count when there are no timings: shard sizes differ by at most one", () => {
    fc.assert(
      fc.property(filesArb, fc.integer({ min: 1, max: 64 }), (files, count) => {
        const sizes = planShards(files, count).map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("balances by timings: no shard is heavier than the lightest plus the heaviest file (LPT's bound)", () => {
    fc.assert(
      fc.property(
        filesArb.chain((files) =>
          fc.record({
            files: fc.constant(files),
            seconds: fc.array(fc.double({ min: 0.01, max: 120, noNaN: true }), {
              minLength: files.length,
              maxLength: files.length,
            }),
            count: fc.integer({ min: 1, max: 8 }),
          }),
        ),
        ({ files, seconds, count }) => {
          const timings: Record<string, Record<string, number>> = {};
          files.forEach((f, i) => {
            timings[f.packagePath] = { ...timings[f.packagePath], [f.file]: seconds[i] as number };
          });
          const load = (shard: ShardFile[]) =>
            shard.reduce((sum, f) => sum + (timings[f.packagePath]?.[f.file] ?? 0), 0);
          const loads = planShards(files, count, timings).map(load);
          const heaviest = Math.max(0, ...seconds);
          expect(Math.max(...loads)).toBeLessThanOrEqual(Math.min(...loads) + heaviest + 1e-9);
        },
      ),
    );
  });

  it("puts two long files on different shards rather than counting files", () => {
    const files = ["a", "b", "c", "d"].map((n) => ({
      packagePath: "p",
      file: `tests/integration/${n}.test.ts`,
    }));
    const timings = {
      p: {
        "tests/integration/a.test.ts": 60,
        "tests/integration/b.test.ts": 50,
        "tests/integration/c.test.ts": 1,
        "tests/integration/d.test.ts": 1,
      },
    };
    const [one, two] = planShards(files, 2, timings);
    expect(one?.map((f) => f.file)).toEqual(["tests/integration/a.test.ts"]);
    expect(two?.map((f) => f.file)).toEqual([
      "tests/integration/b.test.ts",
      "tests/integration/c.test.ts",
      "tests/integration/d.test.ts",
    ]);
  });
});

describe("parseShard", () => {
  it("reads i/n", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    expect(parseShard("64/64")).toEqual({ index: 64, count: 64 });
  });

  it.each(["0/2", "3/2", "1/65", "1", "a/b", "1/2/3", "", "-1/2"])("refuses %j, naming the form", (text) => {
    let error: unknown;
    try {
      parseShard(text);
    } catch (caught) {
      error = caught;
    }
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect((error as Error).message).toMatch(
      /^\[test-support\] --shard .* is not a shard\. Write i\/n with 1 ≤ i ≤ n ≤ 64/,
    );
  });
});

describe("selections", () => {
  it("gives each test process its package's files of the shard, and an empty list when it has none", () => {
    const root = mkdtempSync(join(tmpdir(), "shard-helm-"));
    for (const f of ["a", "b", "c"]) {
      mkdirSync(join(root, "services/x/tests/integration"), { recursive: true });
      writeFileSync(join(root, "services/x/tests/integration", `${f}.test.ts`), "");
    }
    mkdirSync(join(root, "services/y/tests/node-test"), { recursive: true });
    writeFileSync(join(root, "services/y/tests/node-test/n.test.ts"), "");
    writeFileSync(join(root, "services/y/tests/node-test/run.ts"), "");
    const files = [...integrationFiles(root, "services/x"), ...integrationFiles(root, "services/y")];
    expect(files.map(key)).toEqual([
      "services/x|tests/integration/a.test.ts",
      "services/x|tests/integration/b.test.ts",
      "services/x|tests/integration/c.test.ts",
      "services/y|tests/node-test/n.test.ts",
    ]);
    const planned = planShards(files, 4);
    const seen: string[] = [];
    for (let index = 1; index <= 4; index++) {
      const selection = selectionOf({ index, count: 4 }, ["services/x", "services/y", "services/z"], planned);
      const file = writeSelection(join(root, "sel"), selection);
      const env = { INTEGRATION_SHARD: `${index}/4`, INTEGRATION_SHARD_FILE: file };
      for (const p of ["services/x", "services/y", "services/z"])
        for (const f of selectedFiles(p, env) ?? []) seen.push(`${p}|${f}`);
      expect(selectedFiles("services/z", env)).toEqual([]);
    }
    expect(seen.sort()).toEqual(files.map(key));
    expect(selectedFiles("services/x", {})).toBeUndefined();
  });

  it("refuses a shard without its selection instead of running every file", () => {
    expect(() => selectedFiles("services/x", { INTEGRATION_SHARD: "1/2" })).toThrow(
      /INTEGRATION_SHARD=1\/2 is set but INTEGRATION_SHARD_FILE is not; run shards through `pnpm test:integration --shard i\/n`/,
    );
  });

  it("names a selection file by its content, so turbo never replays one selection for another", () => {
    const dir = mkdtempSync(join(tmpdir(), "shard-helm-"));
    const a = writeSelection(dir, { shard: "1/2", files: { p: ["x"] } });
    const b = writeSelection(dir, { shard: "1/2", files: { p: ["y"] } });
    expect(a).not.toBe(b);
    expect(writeSelection(dir, { shard: "1/2", files: { p: ["x"] } })).toBe(a);
  });
});

describe("timings", () => {
  it("reads per-file seconds from Vitest's JUnit", () => {
    const xml = `<testsuites time="3"><testsuite name="tests/integration/a.test.ts" tests="2" time="1.5"><testcase name="x"/></testsuite>
<testsuite name="tests/integration/b.test.ts" time="0.25"></testsuite></testsuites>`;
    expect(fileSecondsFromJUnit(xml)).toEqual({
      "tests/integration/a.test.ts": 1.5,
      "tests/integration/b.test.ts": 0.25,
    });
  });

  it("replaces only the recorded mode's packages", () => {
    const before = {
      repo: { p: { "a.test.ts": 1 }, q: { "b.test.ts": 2 } },
      local: { p: { "a.test.ts": 9 } },
    };
    expect(withRecordedTimings(before, "repo", { p: { "c.test.ts": 3 } })).toEqual({
      repo: { p: { "c.test.ts": 3 }, q: { "b.test.ts": 2 } },
      local: { p: { "a.test.ts": 9 } },
    });
  });
});

describe("result files", () => {
  const names = [
    "junit-repo.xml",
    "junit-node-repo.xml",
    "junit-cluster.xml",
    "junit-unit.xml",
    "junit-shard-1-of-2-repo.xml",
    "junit-node-shard-1-of-2-repo.xml",
    "junit-shard-2-of-2-repo.xml",
    "junit-shard-1-of-3-repo.xml",
    "events.jsonl",
    "events-shard-1-of-2.jsonl",
    "events-shard-2-of-2.jsonl",
    "summary.json",
  ];

  it("an unsharded run starts from none of its mode's results", () => {
    expect(staleResultFiles(names, "repo")).toEqual([
      "junit-repo.xml",
      "junit-node-repo.xml",
      "junit-shard-1-of-2-repo.xml",
      "junit-node-shard-1-of-2-repo.xml",
      "junit-shard-2-of-2-repo.xml",
      "junit-shard-1-of-3-repo.xml",
      "events.jsonl",
      "events-shard-1-of-2.jsonl",
      "events-shard-2-of-2.jsonl",
    ]);
  });

  it("a shard keeps its split's other shards and drops the rest", () => {
    expect(staleResultFiles(names, "repo", { index: 2, count: 2 })).toEqual([
      "junit-repo.xml",
      "junit-node-repo.xml",
      "junit-shard-2-of-2-repo.xml",
      "junit-shard-1-of-3-repo.xml",
      "events.jsonl",
      "events-shard-2-of-2.jsonl",
    ]);
  });

  it("reads a node:test run's seconds", () => {
    expect(nodeTestSeconds("<testsuites>\n<!-- duration_ms 1223.675788 -->\n</testsuites>")).toBe(1.224);
    expect(nodeTestSeconds("<testsuites/>")).toBeUndefined();
  });
});
