import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { chart, ensureHelm, helm } from "./tools.js";

type K8sObject = { kind: string; metadata: { name: string }; [key: string]: unknown };
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are walked by path in assertions.
type Any = any;

let bin = "";
beforeAll(() => {
  bin = ensureHelm();
});

const catalog = parse(readFileSync(`${chart}files/services.yaml`, "utf8")) as {
  services: Record<string, { package: string; variables: string[] }>;
};

/** `helm template` of the chart with `args`; the rendered objects, or the failure's stderr. */
function render(args: string[]): { status: number | null; objects: K8sObject[]; stderr: string } {
  const result = helm(bin, ["template", "it", chart, "--kube-version", "1.31.0", ...args]);
  const objects =
    result.status === 0
      ? parseAllDocuments(result.stdout)
          .map((d) => d.toJS() as K8sObject)
          .filter(Boolean)
      : [];
  return { status: result.status, objects, stderr: result.stderr };
}
const one = (objects: K8sObject[], kind: string): Any => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0];
};

describe("helm lint --strict", () => {
  it.each(["repo", "local", "cluster"])("passes in %s mode (cluster with the CI values)", (mode) => {
    const values = mode === "cluster" ? ["-f", `${chart}ci/cluster-values.yaml`] : ["--set", `mode=${mode}`];
    const result = helm(bin, ["lint", "--strict", chart, ...values]);
    expect(result.stderr + result.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(result.status).toBe(0);
  });

  // Helm's lint renders with `fail` turned into a note (it lints charts before their values exist), so the
  // refusal itself is `helm template`'s and `install`'s, tested below; lint still reports it.
  it("reports the missing mode without values", () => {
    const result = helm(bin, ["lint", "--strict", chart]);
    expect(result.stdout + result.stderr).toContain("Fail: mode is required");
  });
});

describe("helm template", () => {
  it.each(["repo", "local"])("renders an Indexed Job in %s mode for every service, one shard", (mode) => {
    const { status, objects, stderr } = render(["--set", `mode=${mode}`]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(objects.map((o) => o.kind).sort()).toEqual(["Job", "ServiceAccount"]);
    const job = one(objects, "Job");
    expect(job.spec.completionMode).toBe("Indexed");
    expect(job.spec.completions).toBe(1);
    const container = job.spec.template.spec.containers[0];
    expect(container.env).toContainEqual({ name: "INTEGRATION_MODE", value: mode });
    expect(container.args).toEqual(
      Object.keys(catalog.services)
        .sort()
        .flatMap((s) => ["--filter", catalog.services[s]?.package]),
    );
  });

  it("renders a cluster-mode run of two services in two shards (ci/cluster-values.yaml)", () => {
    const { status, objects, stderr } = render(["-f", `${chart}ci/cluster-values.yaml`]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(objects.map((o) => o.kind).sort()).toEqual(["ConfigMap", "Job", "ServiceAccount"]);
    // No permissions it does not need: no Role or binding, no token in the pod.
    expect(objects.some((o) => /Role/.test(o.kind))).toBe(false);
    const account = one(objects, "ServiceAccount");
    expect(account.automountServiceAccountToken).toBe(false);

    const job = one(objects, "Job");
    expect(job.apiVersion).toBe("batch/v1");
    expect(job.spec).toMatchObject({
      completionMode: "Indexed",
      completions: 2,
      parallelism: 2,
      backoffLimit: 0,
      activeDeadlineSeconds: 1800,
    });
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.serviceAccountName).toBe(account.metadata.name);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const [container] = pod.containers;
    expect(container.args).toEqual(["--filter", "@org/platform", "--filter", "@org/threads"]);
    expect(container.resources.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(container.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.env).toContainEqual({ name: "INTEGRATION_MODE", value: "cluster" });
    expect(container.env).toContainEqual({ name: "INTEGRATION_SHARDS", value: "2" });

    // Every variable platform and threads declare comes from the ConfigMap or the existing Secret.
    const configMap = one(objects, "ConfigMap");
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
    const fromSecret = (container.env as Any[])
      .filter((e) => e.valueFrom?.secretKeyRef)
      .map((e) => {
        expect(e.valueFrom.secretKeyRef).toEqual({ name: "integration-databases", key: e.name });
        return e.name;
      });
    expect(fromSecret.sort()).toEqual(["PLATFORM_DATABASE_URL", "THREADS_DATABASE_URL"]);
    const provided = new Set([...Object.keys(configMap.data), ...fromSecret]);
    const needed = ["platform", "threads"].flatMap((s) => catalog.services[s]?.variables ?? []);
    expect(needed.filter((v) => !provided.has(v))).toEqual([]);
    // Nothing in the ConfigMap carries a credential.
    for (const value of Object.values(configMap.data as Record<string, string>))
      expect(value).not.toMatch(/:\/\/[^/@]*:[^/@]*@/);
  });

  it("mounts a results volume at the runner's artifacts folder when one is named", () => {
    const { objects } = render([
      "--set",
      "mode=repo",
      "--set",
      "results.persistentVolumeClaim=integration-results",
    ]);
    const pod = one(objects, "Job").spec.template.spec;
    expect(pod.volumes).toEqual([
      { name: "results", persistentVolumeClaim: { claimName: "integration-results" } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: "results", mountPath: "/app/artifacts" }]);
  });

  const cluster = ["--set", "mode=cluster", "--set", "services={platform}"];
  it.each([
    ["a missing mode", [], "mode is required: set it to repo, local or cluster"],
    ["an empty mode", ["--set", "mode="], "mode is required: set it to repo, local or cluster"],
    [
      "a mode in the wrong case",
      ["--set", "mode=Cluster"],
      'mode "Cluster" is not a mode: set it to repo, local or cluster',
    ],
    ["an unknown mode", ["--set", "mode=mock"], 'mode "mock" is not a mode'],
    [
      "an unknown service",
      ["--set", "mode=repo", "--set", "services={billing}"],
      '"billing" is not a service with integration suites; known: platform, test-support, threads, workflows',
    ],
    ["0 shards", ["--set", "mode=repo", "--set", "shards=0"], "shards 0 must be a whole number from 1 to 64"],
    [
      "65 shards",
      ["--set", "mode=repo", "--set", "shards=65"],
      "shards 65 must be a whole number from 1 to 64",
    ],
    ["shards as a string", ["--set", "mode=repo", "--set-string", "shards=2"], 'shards "2" is not a number'],
    [
      "an INTEGRATION_* variable in config",
      ["--set", "mode=repo", "--set", "config.INTEGRATION_MODE=cluster"],
      "config.INTEGRATION_MODE: INTEGRATION_* variables are the chart's own",
    ],
    [
      "a secret's name in config",
      ["--set", "mode=repo", "--set", "config.LLM_API_KEY=sk"],
      "config.LLM_API_KEY looks like a secret",
    ],
    [
      "a URL with a password in config",
      ["--set", "mode=repo", "--set", "config.PLATFORM_DATABASE_URL=postgres://u:pw@db/x"],
      "config.PLATFORM_DATABASE_URL holds a URL with a password",
    ],
    [
      "secret keys without a secret",
      ["--set", "mode=repo", "--set", "existingSecretKeys={A}"],
      "existingSecretKeys lists variables but existingSecret names no Secret",
    ],
    [
      "cluster mode without the services' variables",
      cluster,
      "cluster mode needs every variable the selected services declare; not provided by config, existingConfigMapKeys or existingSecretKeys: FGA_API_URL (platform), PLATFORM_DATABASE_URL (platform), PLATFORM_GRPC_URL (platform)",
    ],
    [
      "cluster mode missing one variable",
      [
        ...cluster,
        "--set",
        "config.FGA_API_URL=http://openfga:8080",
        "--set",
        "existingSecret=s",
        "--set",
        "existingSecretKeys={PLATFORM_DATABASE_URL}",
      ],
      "existingSecretKeys: PLATFORM_GRPC_URL (platform)",
    ],
  ])("fails for %s, saying what to fix", (_, args, message) => {
    const { status, stderr } = render(args as string[]);
    expect(status).not.toBe(0);
    expect(stderr).toContain(message);
  });

  it("refuses a missing mode with Helm's default Kubernetes version too, before anything else", () => {
    const result = helm(bin, ["template", "it", chart]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("mode is required: set it to repo, local or cluster");
  });

  it("accepts cluster mode once every variable is provided, from config, an existing ConfigMap or Secret", () => {
    const { status, stderr } = render([
      ...cluster,
      "--set",
      "config.FGA_API_URL=http://openfga:8080",
      "--set",
      "existingConfigMap=urls",
      "--set",
      "existingConfigMapKeys={PLATFORM_GRPC_URL}",
      "--set",
      "existingSecret=s",
      "--set",
      "existingSecretKeys={PLATFORM_DATABASE_URL}",
    ]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
  });
});
