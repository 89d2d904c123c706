import { describe, expect, it } from "vitest";
import { caught, fakeDependency } from "../../tests/helpers.js";
import { declareService } from "../declaration.js";
import { isTestSupportError } from "../errors.js";
import { planCluster, selectForPackages } from "./cluster-plan.js";

const declaration = (service: string, variables: string[][]) =>
  declareService(
    service,
    Object.fromEntries(variables.map((v, i) => [`d${i}`, fakeDependency({ variables: v }).dependency])),
  );

// The variables the real declarations read, by package.
const threads = declaration("threads", [
  ["THREADS_DATABASE_URL"],
  ["REDIS_URL"],
  ["LLM_BASE_URL"],
  ["PLATFORM_GRPC_URL"],
  ["THREADS_GRPC_URL", "PLATFORM_GRPC_URL"],
]);
const testSupport = declaration("test-support", [
  ["TEST_SUPPORT_DATABASE_URL"],
  ["REDIS_URL"],
  ["FGA_API_URL"],
  ["TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"],
]);
const workflows = declaration("workflows", [
  ["WORKFLOWS_DATABASE_URL"],
  ["TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"],
  ["WORKFLOWS_GRPC_URL", "THREADS_GRPC_URL", "PLATFORM_GRPC_URL"],
]);

describe("planCluster", () => {
  it("starts what a service's suites read and what those servers need in turn, in start order", () => {
    expect(planCluster([threads])).toEqual({
      servers: ["postgres", "redis", "openfga", "platform", "llm", "threads"],
      variables: [
        "LLM_BASE_URL",
        "PLATFORM_GRPC_URL",
        "REDIS_URL",
        "THREADS_DATABASE_URL",
        "THREADS_GRPC_URL",
      ],
    });
  });

  it("starts no service process for test-support, and prints the Temporal CLI path with Temporal", () => {
    expect(planCluster([testSupport])).toEqual({
      servers: ["postgres", "redis", "openfga", "temporal"],
      variables: [
        "FGA_API_URL",
        "REDIS_URL",
        "TEMPORAL_ADDRESS",
        "TEMPORAL_CLI_PATH",
        "TEMPORAL_NAMESPACE",
        "TEST_SUPPORT_DATABASE_URL",
      ],
    });
  });

  it("pulls in threads' own needs (Redis, the provider, OpenFGA) for workflows, whose suites read none of them", () => {
    const plan = planCluster([workflows]);
    expect(plan.servers).toEqual([
      "postgres",
      "redis",
      "openfga",
      "temporal",
      "platform",
      "llm",
      "threads",
      "workflows",
    ]);
    expect(plan.variables).not.toContain("REDIS_URL");
  });

  it("names a variable nothing provides instead of starting a run that would miss it", async () => {
    const error = await caught(async () => planCluster([declaration("x", [["BILLING_GRPC_URL"]])]));
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain("does not know what provides BILLING_GRPC_URL");
  });
});

describe("selectForPackages", () => {
  const all = [
    { packageName: "@org/threads", declaration: threads },
    { packageName: "@org/workflows", declaration: workflows },
  ];

  it("takes every package when none is named, else the named ones", () => {
    expect(selectForPackages(all, [])).toEqual([threads, workflows]);
    expect(selectForPackages(all, ["@org/workflows"])).toEqual([workflows]);
  });

  it("lists the known packages for an unknown name", async () => {
    const error = await caught(async () => selectForPackages(all, ["@org/thread"]));
    expect(error.message).toContain("--for @org/thread: no package with a declaration has that name");
    expect(error.message).toContain("choose from @org/threads, @org/workflows");
  });
});
