import type { OpenFgaClient } from "@openfga/sdk";
import { transformer } from "@openfga/syntax-transformer";
import { describe, expect } from "vitest";
import { createStoreClient, openfga } from "../../src/index.js";
import { integrationTest } from "../../src/vitest/index.js";

// Behaviours of OpenFGA v1.18.1 that its conformance suites do not pin down, each found by the differential
// test. Runs unchanged in every mode: against the in-memory OpenFGA in repo/local and a real server in
// cluster, so each expectation here is the real server's answer.
const test = integrationTest({
  service: "test-support",
  dependencies: { authz: openfga({ model: new URL("../fixtures/authz.fga", import.meta.url) }) },
});

async function storeWith(
  client: OpenFgaClient,
  dslOrJson: string | object,
  tuples: Parameters<OpenFgaClient["writeTuples"]>[0] = [],
) {
  const store = await createStoreClient(client, "server-behaviours");
  const model = (
    typeof dslOrJson === "string" ? transformer.transformDSLToJSONObject(dslOrJson) : dslOrJson
  ) as never;
  store.authorizationModelId = (await store.writeAuthorizationModel(model)).authorization_model_id;
  if (tuples.length > 0) await store.writeTuples(tuples);
  return store;
}

async function failure(action: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await action;
  } catch (error) {
    const e = error as { apiErrorCode?: string; apiErrorMessage?: string; message: string };
    return { code: e.apiErrorCode, message: e.apiErrorMessage ?? e.message };
  }
  throw new Error("expected the call to fail");
}

const users = (answer: {
  users: {
    object?: { type: string; id: string };
    wildcard?: { type: string };
    userset?: { type: string; id: string; relation: string };
  }[];
}) =>
  answer.users
    .map((u) =>
      u.object
        ? `${u.object.type}:${u.object.id}`
        : u.wildcard
          ? `${u.wildcard.type}:*`
          : `${u.userset?.type}:${u.userset?.id}#${u.userset?.relation}`,
    )
    .sort();

describe("the server's model validation", () => {
  test.for([
    [
      "a computed cycle",
      "define member: blocked\n    define blocked: [user:*] or member",
      "cannot contain a cycle",
    ],
    ["a potential loop", "define admin: owner\n    define owner: admin and admin", "potential loop"],
    [
      "no entry point",
      "define blocked: [group#blocked]\n    define owner: blocked or blocked",
      "no entrypoints defined",
    ],
    [
      "a relation referencing itself",
      "define editor: [user] or editor",
      "invalid userset rewrite definition",
    ],
  ])("refuses %s", async ([, relations, reason], { clients }) => {
    const dsl = `model\n  schema 1.1\ntype user\ntype group\n  relations\n    ${relations}\n`;
    const error = await failure(storeWith(clients.authz, dsl));
    expect(error.code).toBe("invalid_authorization_model");
    expect(error.message).toContain(reason);
  });

  test("refuses a condition that uses a variable it does not declare", async ({ clients }) => {
    const dsl = "model\n  schema 1.1\ntype user\ncondition bad(x: int) {\n  y > 1\n}\n";
    const error = await failure(storeWith(clients.authz, dsl));
    expect(error.code).toBe("invalid_authorization_model");
    expect(error.message).toContain("undeclared reference to 'y'");
  });

  test("refuses an operator without an overload for its operands (int against double)", async ({
    clients,
  }) => {
    const dsl = "model\n  schema 1.1\ntype user\ncondition bad(x: int) {\n  x > 1.5\n}\n";
    const error = await failure(storeWith(clients.authz, dsl));
    expect(error.code).toBe("invalid_authorization_model");
    expect(error.message).toContain("found no matching overload for '_>_' applied to '(int, double)'");
  });
});

describe("conditions the server never evaluates", () => {
  const dsl = `model
  schema 1.1
type user
type group
  relations
    define member: [user with eq]
condition eq(s: string, expected: string) {
  s == expected
}
`;
  const conditioned = {
    user: "user:u1",
    relation: "member",
    object: "group:c",
    condition: { name: "eq", context: { s: "a" } },
  };

  test("list-users with a filter type the relation cannot reach reads nothing", async ({ clients }) => {
    const store = await storeWith(clients.authz, dsl, [conditioned]);
    const answer = await store.listUsers({
      object: { type: "group", id: "c" },
      relation: "member",
      user_filters: [{ type: "group" }],
    });
    expect(users(answer)).toEqual([]);
    await store.deleteStore();
  });

  test("check for a user type the relation cannot reach answers false, not a missing-context error", async ({
    clients,
  }) => {
    const store = await storeWith(clients.authz, dsl.replace("type group", "type team\ntype group"), [
      conditioned,
    ]);
    expect((await store.check({ user: "team:t", relation: "member", object: "group:c" })).allowed).toBe(
      false,
    );
    const missing = await failure(store.check({ user: "user:u1", relation: "member", object: "group:c" }));
    expect(missing.code).toBe("validation_error");
    expect(missing.message).toContain("missing context parameters");
    await store.deleteStore();
  });
});

describe("contextual tuples", () => {
  const dsl = `model
  schema 1.1
type user
type group
  relations
    define viewer: [user, group#viewer, user with flag]
condition flag(on: bool) {
  on
}
`;

  test("an implicit tuple is accepted as a contextual tuple (and refused as a write)", async ({
    clients,
  }) => {
    const store = await storeWith(clients.authz, dsl);
    const implicit = { user: "group:a#viewer", relation: "viewer", object: "group:a" };
    const answer = await store.check({
      user: "user:u",
      relation: "viewer",
      object: "group:a",
      contextualTuples: [implicit],
    });
    expect(answer.allowed).toBe(false);
    const write = await failure(store.writeTuples([implicit]));
    expect(write.code).toBe("validation_error");
    expect(write.message).toContain("cannot write a tuple that is implicit");
    await store.deleteStore();
  });

  test.for([
    ["an undefined condition", { name: "nothere" }],
    ["a parameter of the wrong type", { name: "flag", context: { on: "yes" } }],
  ] as const)(
    "%s: invalid_tuple from check, validation_error from list-objects and list-users",
    async ([, condition], { clients }) => {
      const store = await storeWith(clients.authz, dsl);
      const contextualTuples = [{ user: "user:u", relation: "viewer", object: "group:a", condition }];
      const check = await failure(
        store.check({ user: "user:u", relation: "viewer", object: "group:a", contextualTuples }),
      );
      expect(check.code).toBe("invalid_tuple");
      const listObjects = await failure(
        store.listObjects({ user: "user:u", relation: "viewer", type: "group", contextualTuples }),
      );
      expect(listObjects.code).toBe("validation_error");
      const listUsers = await failure(
        store.listUsers({
          object: { type: "group", id: "a" },
          relation: "viewer",
          user_filters: [{ type: "user" }],
          contextualTuples,
        }),
      );
      expect(listUsers.code).toBe("validation_error");
      await store.deleteStore();
    },
  );

  test("list-users reports a bad contextual tuple before an unknown filter type", async ({ clients }) => {
    const store = await storeWith(clients.authz, dsl);
    const error = await failure(
      store.listUsers({
        object: { type: "group", id: "a" },
        relation: "viewer",
        user_filters: [{ type: "nothere" }],
        contextualTuples: [{ user: "team:t", relation: "viewer", object: "group:a" }],
      }),
    );
    expect(error.code).toBe("invalid_tuple");
    await store.deleteStore();
  });
});

describe("list-objects and list-users", () => {
  test("list-objects lists a userset's own object", async ({ clients }) => {
    const store = await storeWith(
      clients.authz,
      "model\n  schema 1.1\ntype group\ntype folder\n  relations\n    define writer: [group]\n",
    );
    const answer = await store.listObjects({ user: "folder:a#writer", relation: "writer", type: "folder" });
    expect(answer.objects).toEqual(["folder:a"]);
    await store.deleteStore();
  });

  test("a type#relation filter also lists the objects and wildcards of that type", async ({ clients }) => {
    const dsl = `model
  schema 1.1
type group
  relations
    define editor: [group, group:*, group#editor]
`;
    const store = await storeWith(clients.authz, dsl, [
      { user: "group:*", relation: "editor", object: "group:a" },
      { user: "group:b", relation: "editor", object: "group:a" },
      { user: "group:c#editor", relation: "editor", object: "group:a" },
    ]);
    const answer = await store.listUsers({
      object: { type: "group", id: "a" },
      relation: "editor",
      user_filters: [{ type: "group", relation: "editor" }],
    });
    expect(users(answer)).toEqual(["group:*", "group:a#editor", "group:b", "group:c#editor"]);
    await store.deleteStore();
  });

  test("a wildcard with a condition is accepted when the type allows the condition and the wildcard", async ({
    clients,
  }) => {
    const dsl = `model
  schema 1.1
type user
type folder
  relations
    define editor: [user with flag, user:*]
condition flag(on: bool) {
  on
}
`;
    const store = await storeWith(clients.authz, dsl, [
      {
        user: "user:*",
        relation: "editor",
        object: "folder:c",
        condition: { name: "flag", context: { on: true } },
      },
    ]);
    expect((await store.check({ user: "user:x", relation: "editor", object: "folder:c" })).allowed).toBe(
      true,
    );
    await store.deleteStore();
  });

  // A server defect, mirrored: the server's list-objects pipeline never finishes here and the request
  // ends after its timeout (about 6 s on this server); the double gives the same answer at once.
  test("list-objects through restrictions entered twice on a recursive path fails with deadline_exceeded", {
    timeout: 30_000,
  }, async ({ clients }) => {
    // Two direct assignments in one relation, which only the JSON form can say:
    // define member: [user, group#member] or [user, group#member]
    const direct = { this: {} };
    const model = {
      schema_version: "1.1",
      type_definitions: [
        { type: "user" },
        {
          type: "group",
          relations: { member: { union: { child: [direct, direct] } } },
          metadata: {
            relations: {
              member: {
                directly_related_user_types: [{ type: "user" }, { type: "group", relation: "member" }],
              },
            },
          },
        },
      ],
    };
    const store = await storeWith(clients.authz, model, [
      { user: "user:u", relation: "member", object: "group:g" },
    ]);
    const error = await store.listObjects({ user: "user:u", relation: "member", type: "group" }).then(
      () => undefined,
      (e: { statusCode?: number; apiErrorCode?: string }) => e,
    );
    expect(error).toMatchObject({ statusCode: 500, apiErrorCode: "deadline_exceeded" });
    // Once, it is fine; and check is fine either way.
    expect((await store.check({ user: "user:u", relation: "member", object: "group:g" })).allowed).toBe(true);
    await store.deleteStore();
  });
});
