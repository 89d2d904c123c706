// Replays OpenFGA's own conformance suites (data/*.yaml) against anything that speaks the OpenFGA API
// through the SDK's OpenFgaClient: the real server in CI, our in-memory double in unit runs. It mirrors
// the Go runners in openfga/openfga v1.18.1 (tests/check, tests/listobjects, tests/listusers) so that
// "passes here" means "answers like the server", and it is a plain library: importing it does nothing.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { OpenFgaClient, TupleKey, User, UserTypeFilter } from "@openfga/sdk";
import { transformer } from "@openfga/syntax-transformer";
import { parseDocument, visit } from "yaml";

// ---------------------------------------------------------------------------------------------------
// Public API (the lead wires this to the double; keep the shape stable)
// ---------------------------------------------------------------------------------------------------

export interface ConformanceFailure {
  file: string;
  test: string;
  stage: number;
  variant: "written" | "contextual";
  kind: "check" | "listObjects" | "listUsers" | "listedButCheckFalse" | "setup";
  request: unknown;
  expected: unknown;
  actual: unknown;
}

export interface ConformanceFileResult {
  file: string;
  tests: number;
  assertions: {
    check: { passed: number; failed: number };
    listObjects: { passed: number; failed: number };
    listUsers: { passed: number; failed: number };
  };
  failures: ConformanceFailure[];
}

export interface ConformanceOptions {
  files: string[];
  /** A client on a NEW, empty store for one test (the runner calls it once per test and variant). */
  newStore(testName: string): Promise<OpenFgaClient>;
  /** Optional cleanup of a store after its test. */
  deleteStore?(client: OpenFgaClient): Promise<void>;
  filter?: (testName: string) => boolean;
  concurrency?: number;
}

// ---------------------------------------------------------------------------------------------------
// The YAML schema, normalised
// ---------------------------------------------------------------------------------------------------

export interface ConformanceTuple {
  user: string;
  relation: string;
  object: string;
  condition?: { name: string; context?: Record<string, unknown> };
}

interface AssertionBase {
  /** 0 when the assertion expects a result rather than an error (as in the Go runner). */
  errorCode: number;
  contextualTuples: ConformanceTuple[];
  context?: Record<string, unknown>;
}

export interface CheckAssertion extends AssertionBase {
  tuple: { user: string; relation: string; object: string };
  expectation: boolean;
}

export interface ListObjectsAssertion extends AssertionBase {
  request: { user: string; type: string; relation: string };
  expectation: string[];
}

export interface ListUsersAssertion extends AssertionBase {
  request: { object: string; relation: string; filters: string[] };
  expectation: string[];
}

export interface ConformanceStage {
  model: string;
  tuples: ConformanceTuple[];
  checkAssertions: CheckAssertion[];
  listObjectsAssertions: ListObjectsAssertion[];
  listUsersAssertions: ListUsersAssertion[];
}

export interface ConformanceTest {
  name: string;
  stages: ConformanceStage[];
}

/** OpenFGA writes at most this many tuples per Write in its runner; the server allows 100. */
export const WRITE_CHUNK_SIZE = 40;
/** The API caps contextual tuples at 100 per request, so bigger stages get no contextual variant. */
export const MAX_CONTEXTUAL_TUPLES = 100;

/** Reads one conformance file. */
export async function loadConformanceFile(path: string): Promise<ConformanceTest[]> {
  return parseConformanceYaml(await readFile(path, "utf8"), path);
}

/**
 * Parses and normalises a conformance file: missing lists become [], an empty `expectation:` becomes
 * [] (or false for Check), and unknown keys are ignored, exactly as the Go runner's lenient
 * `sigs.k8s.io/yaml` decoding does (one upstream ListUsers assertion nests `expectation:` under
 * `request:`; Go ignores it, so an empty result is expected).
 */
export function parseConformanceYaml(text: string, source = "<yaml>"): ConformanceTest[] {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new Error(`${source}: invalid YAML: ${document.errors[0]?.message}`);
  }
  // Go's YAML 1.1 decoder keeps a plain scalar it cannot parse as a float64 (1.8e+309) as a STRING,
  // and the abac suite relies on that (it expects validation_error for such a `double` parameter).
  // The JS parser turns it into Infinity, which JSON then sends as null, so restore the text.
  visit(document, {
    Scalar(_key, node) {
      if (
        typeof node.value === "number" &&
        !Number.isFinite(node.value) &&
        typeof node.source === "string" &&
        !/^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$/.test(node.source)
      ) {
        node.value = node.source;
      }
    },
  });
  const root = asRecord(document.toJS(), source);
  return asArray(root.tests, `${source}: tests`).map((rawTest, testIndex) => {
    const test = asRecord(rawTest, `${source}: tests[${testIndex}]`);
    const name = asString(test.name, `${source}: tests[${testIndex}].name`);
    const where = `${source}: test ${JSON.stringify(name)}`;
    const stages = asArray(test.stages, `${where}.stages`).map((rawStage, stageIndex) =>
      parseStage(rawStage, `${where} stage ${stageIndex}`),
    );
    return { name, stages };
  });
}

function parseStage(raw: unknown, where: string): ConformanceStage {
  const stage = asRecord(raw, where);
  return {
    model: asString(stage.model, `${where}.model`),
    tuples: optionalArray(stage.tuples, `${where}.tuples`).map((t, i) =>
      parseTuple(t, `${where}.tuples[${i}]`),
    ),
    checkAssertions: optionalArray(stage.checkAssertions, `${where}.checkAssertions`).map((a, i) => {
      const at = `${where}.checkAssertions[${i}]`;
      const assertion = asRecord(a, at);
      const tuple = asRecord(assertion.tuple, `${at}.tuple`);
      return {
        ...parseAssertionBase(assertion, at),
        tuple: {
          user: asString(tuple.user, `${at}.tuple.user`),
          relation: asString(tuple.relation, `${at}.tuple.relation`),
          object: asString(tuple.object, `${at}.tuple.object`),
        },
        expectation: optionalBoolean(assertion.expectation, `${at}.expectation`),
      };
    }),
    listObjectsAssertions: optionalArray(stage.listObjectsAssertions, `${where}.listObjectsAssertions`).map(
      (a, i) => {
        const at = `${where}.listObjectsAssertions[${i}]`;
        const assertion = asRecord(a, at);
        const request = asRecord(assertion.request, `${at}.request`);
        return {
          ...parseAssertionBase(assertion, at),
          request: {
            user: asString(request.user, `${at}.request.user`),
            type: asString(request.type, `${at}.request.type`),
            relation: asString(request.relation, `${at}.request.relation`),
          },
          expectation: optionalStrings(assertion.expectation, `${at}.expectation`),
        };
      },
    ),
    listUsersAssertions: optionalArray(stage.listUsersAssertions, `${where}.listUsersAssertions`).map(
      (a, i) => {
        const at = `${where}.listUsersAssertions[${i}]`;
        const assertion = asRecord(a, at);
        const request = asRecord(assertion.request, `${at}.request`);
        return {
          ...parseAssertionBase(assertion, at),
          request: {
            object: asString(request.object, `${at}.request.object`),
            relation: asString(request.relation, `${at}.request.relation`),
            filters: optionalStrings(request.filters, `${at}.request.filters`),
          },
          expectation: optionalStrings(assertion.expectation, `${at}.expectation`),
        };
      },
    ),
  };
}

function parseAssertionBase(assertion: Record<string, unknown>, where: string): AssertionBase {
  const errorCode = assertion.errorCode ?? 0;
  if (typeof errorCode !== "number" || !Number.isInteger(errorCode)) {
    throw new Error(`${where}.errorCode: expected an integer, got ${JSON.stringify(errorCode)}`);
  }
  const base: AssertionBase = {
    errorCode,
    contextualTuples: optionalArray(assertion.contextualTuples, `${where}.contextualTuples`).map((t, i) =>
      parseTuple(t, `${where}.contextualTuples[${i}]`),
    ),
  };
  if (assertion.context !== undefined && assertion.context !== null) {
    base.context = asRecord(assertion.context, `${where}.context`);
  }
  return base;
}

function parseTuple(raw: unknown, where: string): ConformanceTuple {
  const tuple = asRecord(raw, where);
  const parsed: ConformanceTuple = {
    user: asString(tuple.user, `${where}.user`),
    relation: asString(tuple.relation, `${where}.relation`),
    object: asString(tuple.object, `${where}.object`),
  };
  if (tuple.condition !== undefined && tuple.condition !== null) {
    const condition = asRecord(tuple.condition, `${where}.condition`);
    parsed.condition = { name: asString(condition.name, `${where}.condition.name`) };
    if (condition.context !== undefined && condition.context !== null) {
      parsed.condition.context = asRecord(condition.context, `${where}.condition.context`);
    }
  }
  return parsed;
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${where}: expected a mapping, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

function optionalArray(value: unknown, where: string): unknown[] {
  return value === undefined || value === null ? [] : asArray(value, where);
}

function asString(value: unknown, where: string): string {
  if (typeof value !== "string") throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

function optionalStrings(value: unknown, where: string): string[] {
  return optionalArray(value, where).map((item, i) => asString(item, `${where}[${i}]`));
}

function optionalBoolean(value: unknown, where: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean")
    throw new Error(`${where}: expected a boolean, got ${JSON.stringify(value)}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Error codes
// ---------------------------------------------------------------------------------------------------

/**
 * OpenFGA's numeric ErrorCode values (openfga/api errors.proto) and the names the HTTP API puts in
 * `{"code": ...}`. The YAML uses the numbers (they are gRPC status codes in the Go runner); over HTTP
 * and through the SDK only the names are visible, so we compare names.
 */
export const OPENFGA_ERROR_CODES: Readonly<Record<number, string>> = {
  2000: "validation_error",
  2001: "authorization_model_not_found",
  2002: "authorization_model_resolution_too_complex",
  2003: "invalid_write_input",
  2004: "cannot_allow_duplicate_tuples_in_one_request",
  2005: "cannot_allow_duplicate_types_in_one_request",
  2006: "cannot_allow_multiple_references_to_one_relation",
  2007: "invalid_continuation_token",
  2008: "invalid_tuple_set",
  2009: "invalid_check_input",
  2010: "invalid_expand_input",
  2011: "unsupported_user_set",
  2012: "invalid_object_format",
  2017: "write_failed_due_to_invalid_input",
  2018: "authorization_model_assertions_not_found",
  2020: "latest_authorization_model_not_found",
  2021: "type_not_found",
  2022: "relation_not_found",
  2023: "empty_relation_definition",
  2025: "invalid_user",
  2027: "invalid_tuple",
  2028: "unknown_relation",
  2030: "store_id_invalid_length",
  2033: "assertions_too_many_items",
  2034: "id_too_long",
  2036: "authorization_model_id_too_long",
  2037: "tuple_key_value_not_specified",
  2038: "tuple_keys_too_many_or_too_few_items",
  2039: "page_size_invalid",
  2040: "param_missing_value",
  2041: "difference_base_missing_value",
  2042: "subtract_base_missing_value",
  2043: "object_too_long",
  2044: "relation_too_long",
  2045: "type_definitions_too_few_items",
  2046: "type_invalid_length",
  2047: "type_invalid_pattern",
  2048: "relations_too_few_items",
  2049: "relations_too_long",
  2050: "relations_invalid_pattern",
  2051: "object_invalid_pattern",
  2052: "query_string_type_continuation_token_mismatch",
  2053: "exceeded_entity_limit",
  2054: "invalid_contextual_tuple",
  2055: "duplicate_contextual_tuple",
  2056: "invalid_authorization_model",
  2057: "unsupported_schema_version",
  2058: "cancelled",
  2059: "invalid_start_time",
  3500: "throttled_timeout_error",
  4000: "internal_error",
  4004: "deadline_exceeded",
  5002: "store_id_not_found",
};

/** The API's name for a numeric code; unknown numbers stay numbers so a mismatch still shows them. */
export function errorCodeName(code: number): string {
  return OPENFGA_ERROR_CODES[code] ?? String(code);
}

export interface ApiErrorSummary {
  /** The API error code name (e.g. "validation_error"), or undefined for a non-API error. */
  code: string | undefined;
  status?: number;
  message: string;
}

/**
 * What an SDK call threw, as the API reported it. FgaApiError subclasses carry the body's `code` in
 * `apiErrorCode` (validation, not-found, internal) or only in `responseData` (the base class, e.g. for
 * 422 throttling); anything else (network, client-side validation, a bug in a double) has no code.
 */
export function summarizeError(error: unknown): ApiErrorSummary {
  if (typeof error !== "object" || error === null) return { code: undefined, message: String(error) };
  const e = error as {
    apiErrorCode?: unknown;
    apiErrorMessage?: unknown;
    responseData?: { code?: unknown; message?: unknown };
    statusCode?: unknown;
    message?: unknown;
  };
  const rawCode = e.apiErrorCode ?? e.responseData?.code;
  const code =
    typeof rawCode === "string" ? rawCode : typeof rawCode === "number" ? errorCodeName(rawCode) : undefined;
  const rawMessage = e.apiErrorMessage ?? e.responseData?.message ?? e.message;
  const summary: ApiErrorSummary = { code, message: typeof rawMessage === "string" ? rawMessage : "" };
  if (typeof e.statusCode === "number") summary.status = e.statusCode;
  return summary;
}

// ---------------------------------------------------------------------------------------------------
// Normalisation between the YAML's strings and the API's shapes
// ---------------------------------------------------------------------------------------------------

/** "document:1" → {type, id}; split at the first ":" like OpenFGA's tuple.SplitObject. */
export function parseObject(object: string): { type: string; id: string } {
  const at = object.indexOf(":");
  return at === -1 ? { type: "", id: object } : { type: object.slice(0, at), id: object.slice(at + 1) };
}

/** "group#member" → {type: "group", relation: "member"}; split at the LAST "#" like SplitObjectRelation. */
export function parseUserFilter(filter: string): UserTypeFilter {
  const at = filter.lastIndexOf("#");
  if (at === -1 || at === filter.length - 1) return { type: at === -1 ? filter : filter.slice(0, at) };
  return { type: filter.slice(0, at), relation: filter.slice(at + 1) };
}

/** An API User back to the YAML's string form ("user:jon", "user:*", "group:eng#member"). */
export function userToString(user: User): string {
  if (user.object) return `${user.object.type}:${user.object.id}`;
  if (user.userset) return `${user.userset.type}:${user.userset.id}#${user.userset.relation}`;
  if (user.wildcard) return `${user.wildcard.type}:*`;
  // A malformed user must not silently match anything, so keep it visible in the report.
  return `<unrecognised user ${JSON.stringify(user)}>`;
}

export function toTupleKey(tuple: ConformanceTuple): TupleKey {
  const key: TupleKey = { user: tuple.user, relation: tuple.relation, object: tuple.object };
  if (tuple.condition) {
    key.condition = { name: tuple.condition.name };
    if (tuple.condition.context) key.condition.context = tuple.condition.context;
  }
  return key;
}

// ---------------------------------------------------------------------------------------------------
// Judging one answer (pure, so the unit tests cover it without a server)
// ---------------------------------------------------------------------------------------------------

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ApiErrorSummary };

export interface Verdict {
  pass: boolean;
  expected: unknown;
  actual: unknown;
}

/** Same elements, any order, duplicates counted (testify's ElementsMatch, which the Go runner uses). */
export function sameMembers(expected: readonly string[], actual: readonly string[]): boolean {
  if (expected.length !== actual.length) return false;
  const a = [...expected].sort();
  const b = [...actual].sort();
  return a.every((value, i) => value === b[i]);
}

function expectedError(errorCode: number) {
  return { errorCode, code: errorCodeName(errorCode) };
}

function actualError(error: ApiErrorSummary) {
  return { error: error.code ?? "(not an API error)", status: error.status, message: error.message };
}

/** A Check answer against `expectation` or, when errorCode is non-zero, against that error. */
export function judgeCheck(expectation: boolean, errorCode: number, outcome: Outcome<boolean>): Verdict {
  if (errorCode !== 0) {
    const expected = expectedError(errorCode);
    if (outcome.ok) return { pass: false, expected, actual: { allowed: outcome.value } };
    return { pass: outcome.error.code === expected.code, expected, actual: actualError(outcome.error) };
  }
  if (!outcome.ok)
    return { pass: false, expected: { allowed: expectation }, actual: actualError(outcome.error) };
  return {
    pass: outcome.value === expectation,
    expected: { allowed: expectation },
    actual: { allowed: outcome.value },
  };
}

/** A ListObjects/ListUsers answer: same members in any order, or the expected error. */
export function judgeList(
  expectation: readonly string[],
  errorCode: number,
  outcome: Outcome<string[]>,
): Verdict {
  if (errorCode !== 0) {
    const expected = expectedError(errorCode);
    if (outcome.ok) return { pass: false, expected, actual: [...outcome.value].sort() };
    return { pass: outcome.error.code === expected.code, expected, actual: actualError(outcome.error) };
  }
  const expected = [...expectation].sort();
  if (!outcome.ok) return { pass: false, expected, actual: actualError(outcome.error) };
  return { pass: sameMembers(expectation, outcome.value), expected, actual: [...outcome.value].sort() };
}

async function attempt<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error: summarizeError(error) };
  }
}

// ---------------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------------

type Variant = ConformanceFailure["variant"];
type Tally = ConformanceFileResult["assertions"];

interface RunOutcome {
  assertions: Tally;
  failures: ConformanceFailure[];
}

/** Whether OpenFGA's runner also replays a test with every tuple sent as a contextual tuple. */
export function hasContextualVariant(test: ConformanceTest): boolean {
  // Multi-stage tests rely on tuples from earlier stages being in the store, and the API refuses
  // more than 100 contextual tuples, so (like upstream) only small single-stage tests get a replay.
  return test.stages.length === 1 && (test.stages[0]?.tuples.length ?? 0) <= MAX_CONTEXTUAL_TUPLES;
}

function emptyTally(): Tally {
  return {
    check: { passed: 0, failed: 0 },
    listObjects: { passed: 0, failed: 0 },
    listUsers: { passed: 0, failed: 0 },
  };
}

function addTally(into: Tally, from: Tally): void {
  for (const kind of ["check", "listObjects", "listUsers"] as const) {
    into[kind].passed += from[kind].passed;
    into[kind].failed += from[kind].failed;
  }
}

/** Runs every test of every file (both variants where upstream does) and tallies per file. */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceFileResult[]> {
  const files = await Promise.all(
    options.files.map(async (path) => ({
      file: basename(path),
      tests: (await loadConformanceFile(path)).filter((test) => options.filter?.(test.name) ?? true),
    })),
  );
  const jobs = files.flatMap(({ file, tests }, fileIndex) =>
    tests.flatMap((test) => {
      const variants: Variant[] = hasContextualVariant(test) ? ["written", "contextual"] : ["written"];
      return variants.map((variant) => ({ fileIndex, file, test, variant }));
    }),
  );
  const outcomes = await mapWithConcurrency(jobs, Math.max(1, options.concurrency ?? 4), (job) =>
    runTest(options, job.file, job.test, job.variant),
  );
  // Collected per job and merged in job order, so the report is the same whatever finished first.
  const results: ConformanceFileResult[] = files.map(({ file, tests }) => ({
    file,
    tests: tests.length,
    assertions: emptyTally(),
    failures: [],
  }));
  jobs.forEach((job, i) => {
    const result = results[job.fileIndex]!;
    const outcome = outcomes[i]!;
    addTally(result.assertions, outcome.assertions);
    result.failures.push(...outcome.failures);
  });
  return results;
}

async function mapWithConcurrency<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function runTest(
  options: ConformanceOptions,
  file: string,
  test: ConformanceTest,
  variant: Variant,
): Promise<RunOutcome> {
  const outcome: RunOutcome = { assertions: emptyTally(), failures: [] };
  const fail = (
    stage: number,
    kind: ConformanceFailure["kind"],
    verdict: Omit<Verdict, "pass">,
    request: unknown,
  ) => outcome.failures.push({ file, test: test.name, stage, variant, kind, request, ...verdict });

  let client: OpenFgaClient;
  try {
    // Same store naming as upstream, so a store left behind on a server can be traced to its test.
    client = await options.newStore(variant === "contextual" ? `${test.name}_ctxTuples` : test.name);
  } catch (error) {
    fail(
      0,
      "setup",
      { expected: "a new store", actual: actualError(summarizeError(error)) },
      { op: "newStore" },
    );
    for (const stage of test.stages) failWholeStage(outcome.assertions, stage);
    return outcome;
  }
  try {
    for (const [index, stage] of test.stages.entries()) {
      await runStage(client, stage, variant, outcome.assertions, (kind, verdict, request) =>
        fail(index, kind, verdict, request),
      );
    }
  } finally {
    if (options.deleteStore) {
      try {
        await options.deleteStore(client);
      } catch (error) {
        const last = test.stages.length - 1;
        fail(
          last,
          "setup",
          { expected: "store deleted", actual: actualError(summarizeError(error)) },
          { op: "deleteStore" },
        );
      }
    }
  }
  return outcome;
}

/** A stage whose setup failed cannot pass any assertion; count them so totals stay comparable. */
function failWholeStage(tally: Tally, stage: ConformanceStage): void {
  tally.check.failed += stage.checkAssertions.length;
  tally.listObjects.failed += stage.listObjectsAssertions.length;
  tally.listUsers.failed += stage.listUsersAssertions.length;
}

type Fail = (kind: ConformanceFailure["kind"], verdict: Omit<Verdict, "pass">, request: unknown) => void;

async function runStage(
  client: OpenFgaClient,
  stage: ConformanceStage,
  variant: Variant,
  tally: Tally,
  fail: Fail,
): Promise<void> {
  let authorizationModelId: string;
  try {
    const model = transformer.transformDSLToJSONObject(stage.model);
    const response = await client.writeAuthorizationModel({
      schema_version: model.schema_version,
      type_definitions: model.type_definitions,
      conditions: model.conditions,
    });
    authorizationModelId = response.authorization_model_id;
  } catch (error) {
    fail(
      "setup",
      { expected: "model written", actual: actualError(summarizeError(error)) },
      { op: "writeAuthorizationModel" },
    );
    failWholeStage(tally, stage);
    return;
  }

  if (variant === "written") {
    for (let start = 0; start < stage.tuples.length; start += WRITE_CHUNK_SIZE) {
      const chunk = stage.tuples.slice(start, start + WRITE_CHUNK_SIZE).map(toTupleKey);
      try {
        await client.write({ writes: chunk }, { authorizationModelId });
      } catch (error) {
        fail(
          "setup",
          { expected: "tuples written", actual: actualError(summarizeError(error)) },
          { op: "write", writes: chunk },
        );
        failWholeStage(tally, stage);
        return;
      }
    }
  }

  // In the contextual variant the stage's tuples ride along on every request instead of being stored,
  // after the assertion's own contextual tuples (the order upstream uses).
  const stageTuples = variant === "contextual" ? stage.tuples : [];
  const contextualTuplesFor = (assertion: AssertionBase) =>
    [...assertion.contextualTuples, ...stageTuples].map(toTupleKey);
  const options = { authorizationModelId };

  const check = (request: CheckAssertion["tuple"], assertion: AssertionBase) =>
    attempt(async () => {
      const response = await client.check(
        { ...request, contextualTuples: contextualTuplesFor(assertion), context: assertion.context },
        options,
      );
      return response.allowed === true;
    });

  // Upstream's invariant: whatever a list call returns must also be allowed by Check with the same
  // context and contextual tuples. A violation fails the list assertion and is reported on its own.
  const verifyListed = async (
    listed: string[],
    toCheck: (item: string) => CheckAssertion["tuple"],
    assertion: AssertionBase,
  ): Promise<boolean> => {
    let consistent = true;
    for (const item of listed) {
      const request = toCheck(item);
      const verdict = judgeCheck(true, 0, await check(request, assertion));
      if (!verdict.pass) {
        consistent = false;
        fail("listedButCheckFalse", verdict, describeRequest(request, assertion));
      }
    }
    return consistent;
  };

  for (const assertion of stage.checkAssertions) {
    const verdict = judgeCheck(
      assertion.expectation,
      assertion.errorCode,
      await check(assertion.tuple, assertion),
    );
    tally.check[verdict.pass ? "passed" : "failed"]++;
    if (!verdict.pass) fail("check", verdict, describeRequest(assertion.tuple, assertion));
  }

  for (const assertion of stage.listObjectsAssertions) {
    const outcome = await attempt(async () => {
      const response = await client.listObjects(
        {
          ...assertion.request,
          contextualTuples: contextualTuplesFor(assertion),
          context: assertion.context,
        },
        options,
      );
      return response.objects ?? [];
    });
    const verdict = judgeList(assertion.expectation, assertion.errorCode, outcome);
    if (!verdict.pass) fail("listObjects", verdict, describeRequest(assertion.request, assertion));
    const consistent =
      !outcome.ok ||
      assertion.errorCode !== 0 ||
      (await verifyListed(
        outcome.value,
        (object) => ({ user: assertion.request.user, relation: assertion.request.relation, object }),
        assertion,
      ));
    tally.listObjects[verdict.pass && consistent ? "passed" : "failed"]++;
  }

  for (const assertion of stage.listUsersAssertions) {
    const outcome = await attempt(async () => {
      const response = await client.listUsers(
        {
          object: parseObject(assertion.request.object),
          relation: assertion.request.relation,
          user_filters: assertion.request.filters.map(parseUserFilter),
          contextualTuples: contextualTuplesFor(assertion),
          context: assertion.context,
        },
        options,
      );
      return (response.users ?? []).map(userToString);
    });
    const verdict = judgeList(assertion.expectation, assertion.errorCode, outcome);
    if (!verdict.pass) fail("listUsers", verdict, describeRequest(assertion.request, assertion));
    const consistent =
      !outcome.ok ||
      assertion.errorCode !== 0 ||
      (await verifyListed(
        outcome.value,
        (user) => ({ user, relation: assertion.request.relation, object: assertion.request.object }),
        assertion,
      ));
    tally.listUsers[verdict.pass && consistent ? "passed" : "failed"]++;
  }
}

/** The request as the YAML states it; the stage's tuples are implied by the failure's variant. */
function describeRequest(request: object, assertion: AssertionBase): Record<string, unknown> {
  const described: Record<string, unknown> = { ...request };
  if (assertion.context) described.context = assertion.context;
  if (assertion.contextualTuples.length > 0) described.contextualTuples = assertion.contextualTuples;
  return described;
}

// ---------------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------------

/** Per file: tests and passed/total per API, then the first `maxFailures` failures, one block each. */
export function formatReport(
  results: ConformanceFileResult[],
  options: { maxFailures?: number } = {},
): string {
  const maxFailures = options.maxFailures ?? 25;
  const ratio = ({ passed, failed }: { passed: number; failed: number }) => `${passed}/${passed + failed}`;
  const line = (label: string, tests: number, a: Tally) =>
    `${label}: ${tests} tests; check ${ratio(a.check)}, listObjects ${ratio(a.listObjects)}, listUsers ${ratio(a.listUsers)}`;

  const total = emptyTally();
  const lines = results.map((result) => {
    addTally(total, result.assertions);
    return line(result.file, result.tests, result.assertions);
  });
  const failures = results.flatMap((result) => result.failures);
  const testCount = results.reduce((sum, result) => sum + result.tests, 0);
  lines.push(`${line("total", testCount, total)}; ${failures.length} failure(s)`);

  if (failures.length > 0) {
    const shown = failures.slice(0, maxFailures);
    lines.push("", `Failures (${shown.length} of ${failures.length}):`);
    shown.forEach((failure, i) => {
      lines.push(
        `${i + 1}. ${failure.file} › ${failure.test} › stage ${failure.stage} › ${failure.variant} › ${failure.kind}`,
        `   request:  ${compact(failure.request)}`,
        `   expected: ${compact(failure.expected)}`,
        `   actual:   ${compact(failure.actual)}`,
      );
    });
  }
  return lines.join("\n");
}

function compact(value: unknown, limit = 400): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length} chars)` : text;
}
