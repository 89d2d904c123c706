import { FgaApiValidationError, type OpenFgaClient } from "@openfga/sdk";
import { describe, expect } from "vitest";
import { createIntegrationEnvironment, isTestSupportError, openfga } from "../../src/index.js";
import { integrationTest } from "../../src/vitest/index.js";

// Runs unchanged in every mode: the in-memory OpenFGA in repo/local, a real OpenFGA server in cluster.
const model = new URL("../fixtures/authz.fga", import.meta.url);
const test = integrationTest({ service: "test-support", dependencies: { authz: openfga({ model }) } });

const tuple = (user: string, relation: string, object: string) => ({ user, relation, object });

async function apiError(
  action: Promise<unknown>,
): Promise<{ code?: string; message: string; status?: number }> {
  try {
    await action;
  } catch (error) {
    const e = error as {
      apiErrorCode?: string;
      apiErrorMessage?: string;
      statusCode?: number;
      message: string;
    };
    return { code: e.apiErrorCode, message: e.apiErrorMessage ?? e.message, status: e.statusCode };
  }
  throw new Error("expected the call to fail");
}

async function allowed(client: OpenFgaClient, user: string, relation: string, object: string, extra = {}) {
  return (await client.check({ user, relation, object, ...extra })).allowed;
}

describe("openfga dependency", () => {
  test("resolves direct, computed, tuple-to-userset, userset and exclusion relations @smoke", async ({
    clients,
  }) => {
    const fga = clients.authz;
    await fga.writeTuples([
      tuple("user:ada", "admin", "tenant:acme"),
      tuple("tenant:acme", "tenant", "document:plan"),
      tuple("user:bob", "member", "team:eng"),
      tuple("team:eng#member", "editor", "document:plan"),
      tuple("user:eve", "viewer", "document:plan"),
      tuple("user:eve", "blocked", "document:plan"),
    ]);
    expect(await allowed(fga, "user:ada", "member", "tenant:acme")).toBe(true);
    expect(await allowed(fga, "user:ada", "viewer", "document:plan")).toBe(true);
    expect(await allowed(fga, "user:bob", "viewer", "document:plan")).toBe(true);
    expect(await allowed(fga, "user:bob", "approver", "document:plan")).toBe(false);
    expect(await allowed(fga, "user:eve", "viewer", "document:plan")).toBe(false);
    expect(await allowed(fga, "user:zed", "viewer", "document:plan")).toBe(false);
  });

  test("starts each test with none of the previous test's tuples", async ({ clients }) => {
    expect(await allowed(clients.authz, "user:ada", "member", "tenant:acme")).toBe(false);
    expect((await clients.authz.read()).tuples).toEqual([]);
  });

  test("honours contextual tuples without storing them", async ({ clients }) => {
    const contextualTuples = [tuple("user:cat", "owner", "document:memo")];
    expect(await allowed(clients.authz, "user:cat", "editor", "document:memo", { contextualTuples })).toBe(
      true,
    );
    expect(await allowed(clients.authz, "user:cat", "editor", "document:memo")).toBe(false);
  });

  test("evaluates conditions with ipaddress and timestamp parameters", async ({ clients }) => {
    const fga = clients.authz;
    await fga.writeTuples([
      {
        ...tuple("user:ip", "viewer", "document:net"),
        condition: { name: "from_network", context: { cidr: "10.0.0.0/8" } },
      },
      {
        ...tuple("user:tm", "viewer", "document:net"),
        condition: { name: "before_expiry", context: { expires_at: "2030-01-01T00:00:00Z" } },
      },
    ]);
    expect(
      await allowed(fga, "user:ip", "viewer", "document:net", { context: { request_ip: "10.1.2.3" } }),
    ).toBe(true);
    expect(
      await allowed(fga, "user:ip", "viewer", "document:net", { context: { request_ip: "192.168.0.1" } }),
    ).toBe(false);
    expect(
      await allowed(fga, "user:tm", "viewer", "document:net", {
        context: { current_time: "2029-12-31T23:59:59Z" },
      }),
    ).toBe(true);
    expect(
      await allowed(fga, "user:tm", "viewer", "document:net", {
        context: { current_time: "2030-01-01T00:00:01Z" },
      }),
    ).toBe(false);
    const missing = await apiError(fga.check(tuple("user:ip", "viewer", "document:net")));
    expect(missing.code).toBe("validation_error");
    expect(missing.message).toContain("request_ip");
  });

  test("lists objects, streams them, lists users and batch-checks", async ({ clients }) => {
    const fga = clients.authz;
    await fga.writeTuples([
      tuple("user:ada", "owner", "document:a"),
      tuple("user:ada", "viewer", "document:b"),
      tuple("user:*", "viewer", "document:public"),
      tuple("team:eng#member", "viewer", "document:a"),
      tuple("user:bob", "member", "team:eng"),
    ]);
    const listed = await fga.listObjects({ user: "user:ada", relation: "viewer", type: "document" });
    expect(listed.objects.sort()).toEqual(["document:a", "document:b", "document:public"]);
    const streamed: string[] = [];
    for await (const item of fga.streamedListObjects({
      user: "user:ada",
      relation: "viewer",
      type: "document",
    })) {
      streamed.push(item.object);
    }
    expect(streamed.sort()).toEqual(["document:a", "document:b", "document:public"]);
    const users = await fga.listUsers({
      object: { type: "document", id: "a" },
      relation: "viewer",
      user_filters: [{ type: "user" }],
    });
    expect(users.users.map((u) => u.object?.id).sort()).toEqual(["ada", "bob"]);
    const publicUsers = await fga.listUsers({
      object: { type: "document", id: "public" },
      relation: "viewer",
      user_filters: [{ type: "user" }],
    });
    expect(publicUsers.users).toEqual([{ wildcard: { type: "user" } }]);
    const batch = await fga.batchCheck({
      checks: [
        { ...tuple("user:ada", "viewer", "document:a"), correlationId: "one" },
        { ...tuple("user:zed", "viewer", "document:a"), correlationId: "two" },
      ],
    });
    expect(Object.fromEntries(batch.result.map((r) => [r.correlationId, r.allowed]))).toEqual({
      one: true,
      two: false,
    });
  });

  test("expands one level of a userset tree", async ({ clients }) => {
    await clients.authz.writeTuples([
      tuple("user:ada", "owner", "document:x"),
      tuple("user:bob", "editor", "document:x"),
    ]);
    const { tree } = await clients.authz.expand({ relation: "editor", object: "document:x" });
    const root = tree?.root;
    expect(root?.name).toBe("document:x#editor");
    const nodes = root?.union?.nodes ?? [];
    expect(nodes[0]?.leaf?.users?.users).toEqual(["user:bob"]);
    expect(nodes[1]?.leaf?.computed?.userset).toBe("document:x#owner");
  });

  test("reads tuples and changes", async ({ clients }) => {
    // The change log is the store's whole history: read to its end first, then only what this test did.
    let token: string | undefined;
    for (;;) {
      const page = await clients.authz.readChanges({ type: "document" }, { continuationToken: token });
      token = page.continuation_token;
      if (page.changes.length === 0) break;
    }
    await clients.authz.writeTuples([tuple("user:ada", "owner", "document:r")]);
    await clients.authz.deleteTuples([tuple("user:ada", "owner", "document:r")]);
    await clients.authz.writeTuples([tuple("user:bob", "owner", "document:r")]);
    const read = await clients.authz.read({ object: "document:r" });
    expect(read.tuples.map((t) => t.key.user)).toEqual(["user:bob"]);
    const changes = await clients.authz.readChanges({ type: "document" }, { continuationToken: token });
    expect(changes.changes.map((c) => `${c.operation}:${c.tuple_key.user}`)).toEqual([
      "TUPLE_OPERATION_WRITE:user:ada",
      "TUPLE_OPERATION_DELETE:user:ada",
      "TUPLE_OPERATION_WRITE:user:bob",
    ]);
    expect(changes.continuation_token).not.toBe("");
  });

  test("reset removes tuples written this test even after the test deleted some", async ({
    clients,
    environment,
  }) => {
    await clients.authz.writeTuples([
      tuple("user:a", "owner", "document:z"),
      tuple("user:b", "owner", "document:z"),
    ]);
    await clients.authz.deleteTuples([tuple("user:a", "owner", "document:z")]);
    await environment.reset();
    expect((await clients.authz.read()).tuples).toEqual([]);
  });
});

describe("openfga bad input answers as the server does", () => {
  test("a tuple the model does not allow", async ({ clients }) => {
    const error = await apiError(clients.authz.writeTuples([tuple("document:x", "owner", "document:y")]));
    expect(error.code).toBe("validation_error");
    expect(error.message).toContain("Invalid tuple 'document:y#owner@document:x'");
    expect(error.message).toContain("is not an allowed type restriction for 'document#owner'");
  });

  test("a check on an unknown type or relation", async ({ clients }) => {
    const type = await apiError(clients.authz.check(tuple("user:a", "viewer", "folder:1")));
    expect(type).toMatchObject({ code: "validation_error", status: 400 });
    expect(type.message).toContain("type 'folder' not found");
    const relation = await apiError(clients.authz.check(tuple("user:a", "reader", "document:1")));
    expect(relation.code).toBe("validation_error");
    expect(relation.message).toContain("relation 'document#reader' not found");
    const listType = await apiError(
      clients.authz.listObjects({ user: "user:a", relation: "viewer", type: "folder" }),
    );
    expect(listType.code).toBe("type_not_found");
  });

  test("an invalid contextual tuple", async ({ clients }) => {
    const error = await apiError(
      clients.authz.check({
        ...tuple("user:a", "viewer", "document:1"),
        contextualTuples: [tuple("team:x", "owner", "document:1")],
      }),
    );
    expect(error.code).toBe("invalid_tuple");
  });

  test("a condition parameter of the wrong type", async ({ clients }) => {
    await clients.authz.writeTuples([
      {
        ...tuple("user:ip", "viewer", "document:n"),
        condition: { name: "from_network", context: { cidr: "10.0.0.0/8" } },
      },
    ]);
    const error = await apiError(
      clients.authz.check({
        ...tuple("user:ip", "viewer", "document:n"),
        context: { request_ip: "not-an-ip" },
      }),
    );
    expect(error.code).toBe("validation_error");
  });

  test("an oversized write", async ({ clients }) => {
    const many = Array.from({ length: 101 }, (_, i) => tuple(`user:u${i}`, "owner", "document:big"));
    const error = await apiError(clients.authz.writeTuples(many));
    expect(error.code).toBe("exceeded_entity_limit");
    expect((await clients.authz.read({ object: "document:big" })).tuples).toEqual([]);
  });

  test("writing a tuple twice", async ({ clients }) => {
    await clients.authz.writeTuples([tuple("user:a", "owner", "document:d")]);
    const error = await apiError(clients.authz.writeTuples([tuple("user:a", "owner", "document:d")]));
    expect(error.code).toBe("write_failed_due_to_invalid_input");
  });

  test("a model with an unknown type is rejected by the server", async () => {
    const error = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { authz: openfga({ model: new URL("../fixtures/bad-type.fga", import.meta.url) }) },
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error?.message).toContain("openfga rejected the model");
    expect(error?.message).toContain("nobody");
  });

  test("malformed DSL says where it is wrong", async () => {
    const error = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { authz: openfga({ model: new URL("../fixtures/malformed.fga", import.meta.url) }) },
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error?.message).toContain("is not valid OpenFGA DSL");
    expect(error?.message).toMatch(/line|column|syntax/i);
  });

  test("the SDK raises its own validation error class", async ({ clients }) => {
    await expect(clients.authz.check(tuple("user:a", "viewer", "folder:1"))).rejects.toBeInstanceOf(
      FgaApiValidationError,
    );
  });
});
