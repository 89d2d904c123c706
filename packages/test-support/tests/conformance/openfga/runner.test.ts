// The runner's own logic, with no server: YAML normalisation, error-code mapping, result comparison,
// and the orchestration (stores, variants, chunking, the list ⇒ check invariant) against a scripted
// fake client. Whether the runner agrees with the real server is run-against-server.ts's job.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  FgaApiError,
  FgaApiValidationError,
  type OpenFgaClient,
  type TupleKey,
  type WriteAuthorizationModelRequest,
} from "@openfga/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConformanceTest,
  errorCodeName,
  formatReport,
  hasContextualVariant,
  judgeCheck,
  judgeList,
  loadConformanceFile,
  parseConformanceYaml,
  parseObject,
  parseUserFilter,
  runConformance,
  sameMembers,
  summarizeError,
  toTupleKey,
  userToString,
} from "./runner.js";

const dataFile = (name: string) => fileURLToPath(new URL(`./data/${name}`, import.meta.url));

/** An SDK error exactly as the SDK builds it from an HTTP 400 body. */
function sdkValidationError(code: string, message = "bad request"): FgaApiValidationError {
  const axiosError = {
    message: "Request failed",
    config: {},
    response: { status: 400, headers: {}, data: { code, message } },
  };
  return new FgaApiValidationError(axiosError as never);
}

describe("parseConformanceYaml", () => {
  const minimal = (stage: string) => `tests:\n  - name: t\n    stages:\n      - model: "model"\n${stage}`;

  it("normalises missing lists and empty expectations the way the Go runner decodes them", () => {
    const [test] = parseConformanceYaml(
      minimal(
        [
          "        checkAssertions:",
          "          - tuple: {user: 'user:a', relation: r, object: 'doc:1'}",
          "            errorCode: 2000",
          "        listObjectsAssertions:",
          "          - request: {user: 'user:a', type: doc, relation: r}",
          "            expectation:",
          "        listUsersAssertions:",
          "          - request:",
          "              object: 'doc:1'",
          "              relation: r",
          "              filters: [user]",
          "              expectation:", // nested by mistake upstream; Go ignores it
          "",
        ].join("\n"),
      ),
    );
    const stage = test!.stages[0]!;
    expect(stage.tuples).toEqual([]);
    expect(stage.checkAssertions[0]).toEqual({
      tuple: { user: "user:a", relation: "r", object: "doc:1" },
      expectation: false,
      errorCode: 2000,
      contextualTuples: [],
    });
    expect(stage.listObjectsAssertions[0]!.expectation).toEqual([]);
    expect(stage.listObjectsAssertions[0]!.errorCode).toBe(0);
    expect(stage.listUsersAssertions[0]!.request).toEqual({
      object: "doc:1",
      relation: "r",
      filters: ["user"],
    });
    expect(stage.listUsersAssertions[0]!.expectation).toEqual([]);
  });

  it("reads YAML 1.1-style True/False and keeps tuple conditions with their context", () => {
    const [test] = parseConformanceYaml(
      minimal(
        [
          "        tuples:",
          "          - {user: 'user:a', relation: r, object: 'doc:1', condition: {name: c, context: {x: 1}}}",
          "        checkAssertions:",
          "          - tuple: {user: 'user:a', relation: r, object: 'doc:1'}",
          "            context: {y: [1, 2]}",
          "            contextualTuples: [{user: 'user:b', relation: r, object: 'doc:2'}]",
          "            expectation: True",
          "",
        ].join("\n"),
      ),
    );
    const stage = test!.stages[0]!;
    expect(stage.tuples[0]).toEqual({
      user: "user:a",
      relation: "r",
      object: "doc:1",
      condition: { name: "c", context: { x: 1 } },
    });
    expect(stage.checkAssertions[0]).toMatchObject({
      expectation: true,
      context: { y: [1, 2] },
      contextualTuples: [{ user: "user:b", relation: "r", object: "doc:2" }],
    });
  });

  it("keeps a plain float that overflows float64 as its text, like Go's YAML decoder", () => {
    const [test] = parseConformanceYaml(
      minimal(
        [
          "        checkAssertions:",
          "          - tuple: {user: 'user:a', relation: r, object: 'doc:1'}",
          "            context: {big: 1.8e+309, neg: -1.8e+309, quoted: '1.8e+309', fine: 1.7976931348623157, inf: .inf}",
          "",
        ].join("\n"),
      ),
    );
    expect(test!.stages[0]!.checkAssertions[0]!.context).toEqual({
      big: "1.8e+309",
      neg: "-1.8e+309",
      quoted: "1.8e+309",
      fine: 1.7976931348623157,
      inf: Number.POSITIVE_INFINITY,
    });
  });

  it("names the offending location when the data is malformed", () => {
    expect(() =>
      parseConformanceYaml("tests:\n  - name: broken\n    stages:\n      - tuples: []\n", "f.yaml"),
    ).toThrow('f.yaml: test "broken" stage 0.model: expected a string');
    expect(() => parseConformanceYaml("tests: {}\n", "f.yaml")).toThrow("f.yaml: tests: expected a list");
    expect(() => parseConformanceYaml("tests: [\n", "f.yaml")).toThrow("f.yaml: invalid YAML");
  });

  it.each([
    // file, tests, stages, check, listObjects, listUsers: the upstream counts (shared README table)
    ["consolidated_1_1_tests.yaml", 137, 160, 360, 270, 295],
    ["abac_tests.yaml", 23, 26, 125, 75, 91],
  ])("loads %s completely", async (file, tests, stages, check, listObjects, listUsers) => {
    const loaded = await loadConformanceFile(dataFile(file));
    const all = loaded.flatMap((test) => test.stages);
    expect(loaded).toHaveLength(tests);
    expect(all).toHaveLength(stages);
    expect(all.reduce((n, s) => n + s.checkAssertions.length, 0)).toBe(check);
    expect(all.reduce((n, s) => n + s.listObjectsAssertions.length, 0)).toBe(listObjects);
    expect(all.reduce((n, s) => n + s.listUsersAssertions.length, 0)).toBe(listUsers);
  });
});

describe("error codes", () => {
  it.each([
    [2000, "validation_error"],
    [2002, "authorization_model_resolution_too_complex"],
    [2021, "type_not_found"],
    [2022, "relation_not_found"],
    [2027, "invalid_tuple"],
    [9999, "9999"],
  ])("maps %i to %s", (code, name) => {
    expect(errorCodeName(code)).toBe(name);
  });

  it("reads the API code from SDK errors, and none from other errors", () => {
    expect(summarizeError(sdkValidationError("type_not_found", "type 'x' not found"))).toEqual({
      code: "type_not_found",
      status: 400,
      message: "type 'x' not found",
    });
    // The base FgaApiError (e.g. 422) has no apiErrorCode; the body still names the code.
    const throttled = new FgaApiError({
      config: {},
      response: { status: 422, headers: {}, data: { code: "throttled_timeout_error" } },
    } as never);
    expect(summarizeError(throttled).code).toBe("throttled_timeout_error");
    expect(summarizeError({ apiErrorCode: 2027, message: "numeric" }).code).toBe("invalid_tuple");
    expect(summarizeError(new Error("ECONNREFUSED"))).toEqual({ code: undefined, message: "ECONNREFUSED" });
    expect(summarizeError("boom")).toEqual({ code: undefined, message: "boom" });
  });
});

describe("normalisation", () => {
  it("splits objects at the first colon and filters at the last hash", () => {
    expect(parseObject("document:1")).toEqual({ type: "document", id: "1" });
    expect(parseObject("doc:a:b")).toEqual({ type: "doc", id: "a:b" });
    expect(parseUserFilter("user")).toEqual({ type: "user" });
    expect(parseUserFilter("group#member")).toEqual({ type: "group", relation: "member" });
    expect(parseUserFilter("group#")).toEqual({ type: "group" });
  });

  it("turns API users back into the YAML's strings", () => {
    expect(userToString({ object: { type: "user", id: "jon" } })).toBe("user:jon");
    expect(userToString({ wildcard: { type: "user" } })).toBe("user:*");
    expect(userToString({ userset: { type: "group", id: "eng", relation: "member" } })).toBe(
      "group:eng#member",
    );
    expect(userToString({})).toMatch(/^<unrecognised user/);
  });

  it("sends a condition only when the tuple has one", () => {
    expect(toTupleKey({ user: "u:1", relation: "r", object: "o:1" })).toEqual({
      user: "u:1",
      relation: "r",
      object: "o:1",
    });
    expect(
      toTupleKey({ user: "u:1", relation: "r", object: "o:1", condition: { name: "c", context: { a: 1 } } }),
    ).toEqual({
      user: "u:1",
      relation: "r",
      object: "o:1",
      condition: { name: "c", context: { a: 1 } },
    });
  });
});

describe("judging answers", () => {
  const ok = <T>(value: T) => ({ ok: true as const, value });
  const failed = (code: string | undefined) => ({ ok: false as const, error: { code, message: "m" } });

  it("compares lists as multisets, ignoring order", () => {
    expect(sameMembers(["a", "b"], ["b", "a"])).toBe(true);
    expect(sameMembers([], [])).toBe(true);
    expect(sameMembers(["a"], ["a", "a"])).toBe(false);
    expect(sameMembers(["a", "a", "b"], ["a", "b", "b"])).toBe(false);
  });

  it("passes a check only on the expected result or the expected error", () => {
    expect(judgeCheck(true, 0, ok(true)).pass).toBe(true);
    expect(judgeCheck(false, 0, ok(true))).toEqual({
      pass: false,
      expected: { allowed: false },
      actual: { allowed: true },
    });
    expect(judgeCheck(false, 0, failed("validation_error")).pass).toBe(false);
    expect(judgeCheck(false, 2000, failed("validation_error")).pass).toBe(true);
    expect(judgeCheck(false, 2000, failed("invalid_tuple")).pass).toBe(false);
    expect(judgeCheck(false, 2000, failed(undefined)).pass).toBe(false);
    expect(judgeCheck(false, 2000, ok(false))).toMatchObject({
      pass: false,
      expected: { errorCode: 2000, code: "validation_error" },
    });
  });

  it("passes a list only on the same members or the expected error", () => {
    expect(judgeList(["doc:1", "doc:2"], 0, ok(["doc:2", "doc:1"])).pass).toBe(true);
    expect(judgeList([], 0, ok([])).pass).toBe(true);
    expect(judgeList(["doc:1"], 0, ok(["doc:2", "doc:1"]))).toEqual({
      pass: false,
      expected: ["doc:1"],
      actual: ["doc:1", "doc:2"],
    });
    expect(judgeList([], 0, failed("validation_error")).pass).toBe(false);
    expect(judgeList([], 2021, failed("type_not_found")).pass).toBe(true);
    expect(judgeList([], 2021, ok([])).pass).toBe(false);
  });
});

describe("runConformance with a scripted client", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "openfga-conformance-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const model = '"model\\n  schema 1.1\\ntype user\\ntype doc\\n  relations\\n    define viewer: [user]\\n"';
  const tuple = (i: number) => `          - {user: 'user:${i}', relation: viewer, object: 'doc:${i}'}`;

  async function yamlFile(name: string, body: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, body);
    return path;
  }

  /**
   * A direct-relations-only fake: answers from stored plus contextual tuples, records every call, and
   * can be told to misbehave. Just enough OpenFGA for the runner's plumbing.
   */
  function fakeServer(
    behaviour: { extraListedObject?: string; failWrites?: boolean; denyAll?: boolean } = {},
  ) {
    const calls: { store: string; method: string; body: unknown; options?: unknown }[] = [];
    const stores: string[] = [];
    const deleted: string[] = [];
    const storeOf = new WeakMap<object, string>();
    const newStore = async (testName: string) => {
      const store = testName;
      stores.push(store);
      const tuples: TupleKey[] = [];
      const has = (ctx: TupleKey[] | undefined, user: string, relation: string, object: string) =>
        [...tuples, ...(ctx ?? [])].some(
          (t) => t.user === user && t.relation === relation && t.object === object,
        );
      const client = {
        async writeAuthorizationModel(body: WriteAuthorizationModelRequest) {
          calls.push({ store, method: "writeAuthorizationModel", body });
          return { authorization_model_id: `model-${store}` };
        },
        async write(body: { writes: TupleKey[] }, options: unknown) {
          calls.push({ store, method: "write", body, options });
          if (behaviour.failWrites) throw sdkValidationError("invalid_tuple");
          tuples.push(...body.writes);
          return {};
        },
        async check(
          body: { user: string; relation: string; object: string; contextualTuples?: TupleKey[] },
          options: unknown,
        ) {
          calls.push({ store, method: "check", body, options });
          if (body.relation === "missing") throw sdkValidationError("validation_error");
          return {
            allowed: !behaviour.denyAll && has(body.contextualTuples, body.user, body.relation, body.object),
          };
        },
        async listObjects(
          body: { user: string; relation: string; type: string; contextualTuples?: TupleKey[] },
          options: unknown,
        ) {
          calls.push({ store, method: "listObjects", body, options });
          const objects = [...tuples, ...(body.contextualTuples ?? [])]
            .filter(
              (t) =>
                t.user === body.user && t.relation === body.relation && t.object.startsWith(`${body.type}:`),
            )
            .map((t) => t.object);
          if (behaviour.extraListedObject) objects.push(behaviour.extraListedObject);
          return { objects };
        },
        async listUsers(
          body: { object: { type: string; id: string }; relation: string; contextualTuples?: TupleKey[] },
          options: unknown,
        ) {
          calls.push({ store, method: "listUsers", body, options });
          const object = `${body.object.type}:${body.object.id}`;
          const users = [...tuples, ...(body.contextualTuples ?? [])]
            .filter((t) => t.object === object && t.relation === body.relation)
            .map((t) => ({ object: parseObject(t.user) }));
          return { users };
        },
      };
      storeOf.set(client, store);
      return client as unknown as OpenFgaClient;
    };
    const deleteStore = async (client: OpenFgaClient) => {
      deleted.push(storeOf.get(client) ?? "unknown client");
    };
    return { calls, stores, deleted, newStore, deleteStore };
  }

  const oneStage = (name: string, tuples: number[]) => `tests:
  - name: ${name}
    stages:
      - model: ${model}
        tuples:
${tuples.map(tuple).join("\n")}
        checkAssertions:
          - tuple: {user: 'user:1', relation: viewer, object: 'doc:1'}
            expectation: true
          - tuple: {user: 'user:1', relation: viewer, object: 'doc:2'}
            contextualTuples: [{user: 'user:1', relation: viewer, object: 'doc:2'}]
            expectation: true
          - tuple: {user: 'user:1', relation: missing, object: 'doc:1'}
            errorCode: 2000
        listObjectsAssertions:
          - request: {user: 'user:1', type: doc, relation: viewer}
            expectation: ['doc:1']
        listUsersAssertions:
          - request: {object: 'doc:1', relation: viewer, filters: [user]}
            expectation: ['user:1']
`;

  it("runs both variants on fresh stores: written tuples in chunks of 40, then the same tuples as contextual ones", async () => {
    const file = await yamlFile(
      "both.yaml",
      oneStage(
        "both",
        Array.from({ length: 41 }, (_, i) => i + 1),
      ),
    );
    const fake = fakeServer();
    const [result] = await runConformance({
      files: [file],
      newStore: fake.newStore,
      deleteStore: fake.deleteStore,
    });

    expect(result).toEqual({
      file: "both.yaml",
      tests: 1,
      assertions: {
        check: { passed: 6, failed: 0 },
        listObjects: { passed: 2, failed: 0 },
        listUsers: { passed: 2, failed: 0 },
      },
      failures: [],
    });
    expect(fake.stores.sort()).toEqual(["both", "both_ctxTuples"]);
    expect(fake.deleted.sort()).toEqual(["both", "both_ctxTuples"]);

    const writes = fake.calls.filter((c) => c.method === "write");
    expect(writes.map((c) => [c.store, (c.body as { writes: unknown[] }).writes.length])).toEqual([
      ["both", 40],
      ["both", 1],
    ]);
    expect(writes[0]!.options).toEqual({ authorizationModelId: "model-both" });

    // The model sent is the DSL's JSON form, not the DSL.
    const model = fake.calls.find((c) => c.method === "writeAuthorizationModel")!
      .body as WriteAuthorizationModelRequest;
    expect(model.schema_version).toBe("1.1");
    expect(model.type_definitions.map((t) => t.type)).toEqual(["user", "doc"]);

    const checks = fake.calls.filter((c) => c.method === "check");
    for (const c of checks) expect(c.options).toEqual({ authorizationModelId: `model-${c.store}` });
    const ctxOf = (store: string, object: string) =>
      (
        checks.find((c) => c.store === store && (c.body as { object: string }).object === object)!.body as {
          contextualTuples: TupleKey[];
        }
      ).contextualTuples;
    expect(ctxOf("both", "doc:2")).toEqual([{ user: "user:1", relation: "viewer", object: "doc:2" }]);
    // Contextual variant: the assertion's own contextual tuples first, then all 41 stage tuples.
    const contextual = ctxOf("both_ctxTuples", "doc:2");
    expect(contextual).toHaveLength(42);
    expect(contextual[0]).toEqual({ user: "user:1", relation: "viewer", object: "doc:2" });
    expect(contextual[41]).toEqual({ user: "user:41", relation: "viewer", object: "doc:41" });
  });

  it("gives multi-stage and over-100-tuple tests no contextual variant", async () => {
    const big = parseConformanceYaml(
      oneStage(
        "big",
        Array.from({ length: 101 }, (_, i) => i + 1),
      ),
    );
    const small = parseConformanceYaml(oneStage("small", [1]));
    const twoStages: ConformanceTest = { name: "two", stages: [small[0]!.stages[0]!, small[0]!.stages[0]!] };
    expect(hasContextualVariant(small[0]!)).toBe(true);
    expect(hasContextualVariant(big[0]!)).toBe(false);
    expect(hasContextualVariant(twoStages)).toBe(false);

    const file = await yamlFile(
      "big.yaml",
      oneStage(
        "big",
        Array.from({ length: 101 }, (_, i) => i + 1),
      ),
    );
    const fake = fakeServer();
    await runConformance({ files: [file], newStore: fake.newStore });
    expect(fake.stores).toEqual(["big"]);
  });

  it("fails a list assertion whose listed item Check does not allow, and reports that separately", async () => {
    const file = await yamlFile("extra.yaml", oneStage("extra", [1]));
    const fake = fakeServer({ extraListedObject: "doc:9" });
    const [result] = await runConformance({ files: [file], newStore: fake.newStore });

    expect(result!.assertions.listObjects).toEqual({ passed: 0, failed: 2 });
    expect(result!.failures.map((f) => [f.variant, f.kind])).toEqual([
      ["written", "listObjects"],
      ["written", "listedButCheckFalse"],
      ["contextual", "listObjects"],
      ["contextual", "listedButCheckFalse"],
    ]);
    expect(result!.failures[1]).toMatchObject({
      test: "extra",
      stage: 0,
      request: { user: "user:1", relation: "viewer", object: "doc:9" },
      expected: { allowed: true },
      actual: { allowed: false },
    });
  });

  it("fails a list assertion that matches its expectation when Check disagrees with what was listed", async () => {
    const file = await yamlFile("deny.yaml", oneStage("deny", [1]));
    const fake = fakeServer({ denyAll: true });
    const [result] = await runConformance({ files: [file], newStore: fake.newStore });

    expect(result!.assertions.listObjects).toEqual({ passed: 0, failed: 2 });
    expect(result!.assertions.listUsers).toEqual({ passed: 0, failed: 2 });
    const kinds = result!.failures.filter((f) => f.variant === "written").map((f) => f.kind);
    expect(kinds).toEqual(["check", "check", "listedButCheckFalse", "listedButCheckFalse"]);
    expect(result!.failures.find((f) => f.kind === "listedButCheckFalse")).toMatchObject({
      request: { user: "user:1", relation: "viewer", object: "doc:1" },
    });
  });

  it("counts every assertion of a stage whose setup failed as failed", async () => {
    const file = await yamlFile("setup.yaml", oneStage("setup", [1]));
    const fake = fakeServer({ failWrites: true });
    const [result] = await runConformance({ files: [file], newStore: fake.newStore });

    // Only the written variant writes; the contextual variant still passes everything.
    expect(result!.assertions).toEqual({
      check: { passed: 3, failed: 3 },
      listObjects: { passed: 1, failed: 1 },
      listUsers: { passed: 1, failed: 1 },
    });
    expect(result!.failures).toHaveLength(1);
    expect(result!.failures[0]).toMatchObject({
      kind: "setup",
      variant: "written",
      actual: { error: "invalid_tuple" },
    });
  });

  it("runs only the tests the filter accepts, keeping results in file order", async () => {
    const a = await yamlFile("a.yaml", oneStage("alpha", [1]));
    const b = await yamlFile(
      "b.yaml",
      `${oneStage("beta", [1])}${oneStage("gamma", [1]).replace("tests:\n", "")}`,
    );
    const fake = fakeServer();
    const results = await runConformance({
      files: [a, b],
      newStore: fake.newStore,
      filter: (name) => name !== "gamma",
      concurrency: 3,
    });
    expect(results.map((r) => [r.file, r.tests])).toEqual([
      ["a.yaml", 1],
      ["b.yaml", 1],
    ]);
    expect(fake.stores.sort()).toEqual(["alpha", "alpha_ctxTuples", "beta", "beta_ctxTuples"]);
  });

  it("formats per-file counts and the first failures", async () => {
    const file = await yamlFile("report.yaml", oneStage("report", [1]));
    const fake = fakeServer({ extraListedObject: "doc:9" });
    const results = await runConformance({ files: [file], newStore: fake.newStore });
    const report = formatReport(results, { maxFailures: 1 });

    expect(report).toContain("report.yaml: 1 tests; check 6/6, listObjects 0/2, listUsers 2/2");
    expect(report).toContain("total: 1 tests; check 6/6, listObjects 0/2, listUsers 2/2; 4 failure(s)");
    expect(report).toContain("Failures (1 of 4):");
    expect(report).toContain("1. report.yaml › report › stage 0 › written › listObjects");
    expect(report).toContain('expected: ["doc:1"]');
    expect(report).toContain('actual:   ["doc:1","doc:9"]');
    expect(report).not.toContain("2. report.yaml");
  });
});
