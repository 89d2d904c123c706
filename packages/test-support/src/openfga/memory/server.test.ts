import { transformer } from "@openfga/syntax-transformer";
import { beforeEach, describe, expect, it } from "vitest";
import { InMemoryOpenFga, LIMITS } from "./server.js";

const MODEL = transformer.transformDSLToJSONObject(`model
  schema 1.1
type user
type doc
  relations
    define viewer: [user]
`);
const none = new URLSearchParams();

describe("InMemoryOpenFga answers bad requests as the server does", () => {
  let server: InMemoryOpenFga;
  let store: string;
  const post = (path: string, body: unknown) => server.handle("POST", `/stores/${store}${path}`, none, body);

  beforeEach(() => {
    server = new InMemoryOpenFga();
    store = (server.handle("POST", "/stores", none, { name: "unit" }).body as { id: string }).id;
    post("/authorization-models", MODEL);
  });

  it("hands out ULIDs for stores and models", () => {
    expect(store).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const model = post("/authorization-models", MODEL).body as { authorization_model_id: string };
    expect(model.authorization_model_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it("says which endpoint it does not implement, with 501 rather than an empty success", () => {
    const answer = server.handle("PUT", `/stores/${store}/assertions/x`, none, {});
    expect(answer.status).toBe(501);
    expect(answer.body).toMatchObject({
      message: expect.stringContaining("does not implement PUT /stores/"),
    });
  });

  it("rejects a store id that is not a ULID, and a store that does not exist", () => {
    expect(server.handle("GET", "/stores/nope", none, undefined)).toMatchObject({
      status: 400,
      body: { code: "validation_error" },
    });
    expect(server.handle("GET", "/stores/01ARZ3NDEKTSV4RRFFQ69G5FAV", none, undefined)).toMatchObject({
      status: 404,
      body: { code: "store_id_not_found" },
    });
  });

  it("names a model that does not exist", () => {
    const answer = post("/check", {
      authorization_model_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
      tuple_key: { user: "user:a", relation: "viewer", object: "doc:1" },
    });
    expect(answer).toMatchObject({ status: 400, body: { code: "authorization_model_not_found" } });
  });

  it("needs a model before it can check", () => {
    const empty = (server.handle("POST", "/stores", none, { name: "empty" }).body as { id: string }).id;
    const answer = server.handle("POST", `/stores/${empty}/check`, none, {
      tuple_key: { user: "user:a", relation: "viewer", object: "doc:1" },
    });
    expect(answer).toMatchObject({ status: 400, body: { code: "latest_authorization_model_not_found" } });
  });

  it("limits batch checks and refuses duplicate correlation ids", () => {
    const check = (id: string) => ({
      tuple_key: { user: "user:a", relation: "viewer", object: "doc:1" },
      correlation_id: id,
    });
    const tooMany = Array.from({ length: LIMITS.checksPerBatch + 1 }, (_, i) => check(`c${i}`));
    expect(post("/batch-check", { checks: tooMany })).toMatchObject({
      status: 400,
      body: { code: "validation_error" },
    });
    const duplicate = post("/batch-check", { checks: [check("same"), check("same")] });
    expect(duplicate.body).toEqual({
      code: "validation_error",
      message: "received duplicate correlation id: same",
    });
  });

  it("reports a bad item of a batch check in that item only", () => {
    const answer = post("/batch-check", {
      checks: [
        { tuple_key: { user: "user:a", relation: "viewer", object: "doc:1" }, correlation_id: "ok" },
        { tuple_key: { user: "user:a", relation: "nope", object: "doc:1" }, correlation_id: "bad" },
      ],
    });
    expect(answer.body).toEqual({
      result: {
        ok: { allowed: false },
        bad: {
          error: {
            input_error: "validation_error",
            message: "invalid relation: relation 'doc#nope' not found",
          },
        },
      },
    });
  });

  it("requires an object type in a read filter", () => {
    expect(post("/read", { tuple_key: { user: "user:a" } })).toMatchObject({
      status: 400,
      body: { code: "validation_error" },
    });
  });

  it("pages reads with a continuation token", () => {
    post("/write", {
      writes: {
        tuple_keys: [1, 2, 3].map((i) => ({ user: `user:${i}`, relation: "viewer", object: "doc:1" })),
      },
    });
    const first = post("/read", { page_size: 2 }).body as { tuples: unknown[]; continuation_token: string };
    expect(first.tuples).toHaveLength(2);
    const second = post("/read", { page_size: 2, continuation_token: first.continuation_token }).body as {
      tuples: unknown[];
      continuation_token: string;
    };
    expect(second.tuples).toHaveLength(1);
    expect(second.continuation_token).toBe("");
  });

  it("refuses a write and a delete of the same tuple in one request, and keeps nothing of a failed write", () => {
    const key = { user: "user:a", relation: "viewer", object: "doc:1" };
    expect(post("/write", { writes: { tuple_keys: [key] }, deletes: { tuple_keys: [key] } })).toMatchObject({
      status: 400,
    });
    expect(
      post("/write", {
        writes: { tuple_keys: [key, { user: "doc:2", relation: "viewer", object: "doc:1" }] },
      }),
    ).toMatchObject({ status: 400 });
    expect((post("/read", {}).body as { tuples: unknown[] }).tuples).toEqual([]);
  });

  it("rejects an implied tuple (a userset holding itself)", () => {
    const model = transformer.transformDSLToJSONObject(`model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
`);
    post("/authorization-models", model);
    const answer = post("/write", {
      writes: { tuple_keys: [{ user: "group:a#member", relation: "member", object: "group:a" }] },
    });
    expect(answer.body).toMatchObject({
      message: expect.stringContaining("cannot write a tuple that is implicit"),
    });
  });

  it("rejects a list-users request without exactly one filter", () => {
    const answer = post("/list-users", {
      object: { type: "doc", id: "1" },
      relation: "viewer",
      user_filters: [{ type: "user" }, { type: "doc" }],
    });
    expect(answer).toMatchObject({ status: 400, body: { code: "validation_error" } });
  });
});

describe("InMemoryOpenFga where the server races branches", () => {
  // The server settles an exclusion with whichever branch answers first. Where the subtracted side meets a
  // cycle and also a plain denial, it usually hears the denial first (and allows); now and then the cycle
  // (and denies). The double answers with the usual order; `cycleFirst` gives the other, so the
  // differential test can tell a race on the server from a defect. On OpenFGA v1.18.1 this very check
  // answered allowed 29 times and denied once in 30 sequential asks; the differential's seed 1397 hit it in CI.
  const model = transformer.transformDSLToJSONObject(`model
  schema 1.1
type user
type folder
  relations
    define blocked: [user]
type doc
  relations
    define parent: [folder, doc]
    define blocked: [user] but not blocked from parent
    define viewer: [user] but not blocked
`);
  const check = (cycleFirst: boolean) => {
    const server = new InMemoryOpenFga({ cycleFirst });
    const store = (server.handle("POST", "/stores", none, { name: "race" }).body as { id: string }).id;
    const post = (path: string, body: unknown) =>
      server.handle("POST", `/stores/${store}${path}`, none, body);
    expect(post("/authorization-models", model).status).toBe(201);
    const tuples = [
      { user: "doc:a", relation: "parent", object: "doc:a" },
      { user: "user:u", relation: "viewer", object: "doc:a" },
    ];
    expect(post("/write", { writes: { tuple_keys: tuples } }).status).toBe(200);
    const asked = { tuple_key: { user: "user:u", relation: "viewer", object: "doc:a" } };
    const listed = post("/list-objects", { type: "doc", relation: "viewer", user: "user:u" }).body;
    return { check: (post("/check", asked).body as { allowed: boolean }).allowed, listed };
  };

  it("answers with the plain denial first by default, and with the cycle first when asked", () => {
    expect(check(false)).toEqual({ check: true, listed: { objects: ["doc:a"] } });
    expect(check(true)).toEqual({ check: false, listed: { objects: [] } });
  });
});
