import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "@org/platform";
import { describeInModes, integrationTest } from "@org/test-support/vitest";
import { describe, expect } from "vitest";
import { FAIL_MID_STREAM, MAX_BODY, RATE_WINDOW_MS } from "../../src/index.js";
import { type ThreadsTestClients, threadsService } from "../../src/testing/index.js";

// Written once for every mode. The rate limit matches THREADS_RATE_LIMIT of the process in cluster mode.
const RATE_LIMIT = 8;
const test = integrationTest({
  service: "threads",
  dependencies: { app: threadsService({ rateLimitPerMinute: RATE_LIMIT }) },
});
const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A tenant of this test's own, with an owner and a member, and a thread in it. */
async function setUp(app: ThreadsTestClients) {
  const owner = id("ada");
  const member = id("grace");
  const { tenant } = await app.platform.createTenant({ name: id("acme"), ownerUserId: owner });
  const tenantId = tenant?.id ?? "";
  await app.platform.addMember({ tenantId, userId: member, role: Role.MEMBER });
  const { thread } = await app.threads.createThread({ tenantId, userId: owner, title: "Launch plan" });
  return { tenantId, owner, member, threadId: thread?.id ?? "" };
}

async function failure(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await call;
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected the call to fail");
}

describe("threads service", () => {
  test("members post and read messages, page by page", async ({ clients }) => {
    const { threadId, owner, member } = await setUp(clients.app);
    for (const [user, body] of [
      [owner, "one"],
      [member, "two"],
      [owner, "three"],
      [member, "four"],
      [owner, "five"],
    ] as const) {
      await clients.app.threads.postMessage({ threadId, userId: user, body });
    }
    const first = await clients.app.threads.listMessages({ threadId, userId: member, pageSize: 2 });
    expect(first.messages.map((m) => [m.body, Number(m.seq)])).toEqual([
      ["one", 1],
      ["two", 2],
    ]);
    const second = await clients.app.threads.listMessages({
      threadId,
      userId: member,
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    const third = await clients.app.threads.listMessages({
      threadId,
      userId: member,
      pageSize: 2,
      pageToken: second.nextPageToken,
    });
    expect([...second.messages, ...third.messages].map((m) => m.body)).toEqual(["three", "four", "five"]);
    expect(third.nextPageToken).toBe("");
  });

  test("a new message shows up on the (cached) first page", async ({ clients }) => {
    const { threadId, owner } = await setUp(clients.app);
    await clients.app.threads.postMessage({ threadId, userId: owner, body: "hello" });
    expect((await clients.app.threads.listMessages({ threadId, userId: owner })).messages).toHaveLength(1);
    await clients.app.threads.postMessage({ threadId, userId: owner, body: "again" });
    expect(
      (await clients.app.threads.listMessages({ threadId, userId: owner })).messages.map((m) => m.body),
    ).toEqual(["hello", "again"]);
  });

  test("Ask streams the provider's answer @smoke", async ({ clients }) => {
    const { threadId, owner } = await setUp(clients.app);
    await clients.app.threads.postMessage({ threadId, userId: owner, body: "context" });
    const deltas: string[] = [];
    for await (const part of clients.app.threads.ask({ threadId, userId: owner, question: "What next?" })) {
      deltas.push(part.delta);
    }
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join("")).toBe('You asked "What next?" with 1 earlier messages in the thread.');
  });

  test("a provider error mid-stream ends the stream as Unavailable after what was sent", async ({
    clients,
  }) => {
    const { threadId, owner } = await setUp(clients.app);
    const deltas: string[] = [];
    const error = await failure(
      (async () => {
        for await (const part of clients.app.threads.ask({
          threadId,
          userId: owner,
          question: `Go ${FAIL_MID_STREAM}`,
        })) {
          deltas.push(part.delta);
        }
      })(),
    );
    expect(deltas).toHaveLength(2);
    expect(error.code).toBe(Code.Unavailable);
    expect(error.message).toContain("the provider failed mid-stream after 2 chunks");
  });

  test("a stranger is denied, an unknown thread is not found", async ({ clients }) => {
    const { threadId, tenantId } = await setUp(clients.app);
    const stranger = id("mallory");
    expect((await failure(clients.app.threads.listMessages({ threadId, userId: stranger }))).code).toBe(
      Code.PermissionDenied,
    );
    expect(
      (await failure(clients.app.threads.createThread({ tenantId, userId: stranger, title: "x" }))).code,
    ).toBe(Code.PermissionDenied);
    expect(
      (
        await failure(
          clients.app.threads.postMessage({ threadId: randomUUID(), userId: stranger, body: "x" }),
        )
      ).code,
    ).toBe(Code.NotFound);
  });

  test("invalid arguments and a too-large message are rejected with what is wrong", async ({ clients }) => {
    const { threadId, owner } = await setUp(clients.app);
    const tooLarge = await failure(
      clients.app.threads.postMessage({ threadId, userId: owner, body: "x".repeat(MAX_BODY + 1) }),
    );
    expect(tooLarge).toEqual({
      code: Code.InvalidArgument,
      message: `body is ${MAX_BODY + 1} characters; the limit is ${MAX_BODY}`,
    });
    expect(
      (await failure(clients.app.threads.postMessage({ threadId, userId: owner, body: "  " }))).message,
    ).toBe("body is required");
    expect(
      (await failure(clients.app.threads.listMessages({ threadId, userId: owner, pageSize: 101 }))).code,
    ).toBe(Code.InvalidArgument);
    expect((await failure(clients.app.threads.listMessages({ threadId: "t-1", userId: owner }))).code).toBe(
      Code.InvalidArgument,
    );
    const emptyQuestion = failure(
      (async () => {
        for await (const _ of clients.app.threads.ask({ threadId, userId: owner, question: "" })) break;
      })(),
    );
    expect((await emptyQuestion).code).toBe(Code.InvalidArgument);
  });

  test("only a thread's creator deletes it, messages and all", async ({ clients }) => {
    const { threadId, owner, member } = await setUp(clients.app);
    await clients.app.threads.postMessage({ threadId, userId: member, body: "hi" });
    expect((await failure(clients.app.threads.deleteThread({ threadId, userId: member }))).code).toBe(
      Code.PermissionDenied,
    );
    await clients.app.threads.deleteThread({ threadId, userId: owner });
    expect((await failure(clients.app.threads.listMessages({ threadId, userId: owner }))).code).toBe(
      Code.NotFound,
    );
  });

  test("CreateThread needs a title of 1 to 200 characters", async ({ clients }) => {
    const { tenantId, owner } = await setUp(clients.app);
    for (const title of ["   ", "t".repeat(201)]) {
      const error = await failure(clients.app.threads.createThread({ tenantId, userId: owner, title }));
      expect(error).toEqual({ code: Code.InvalidArgument, message: "title must be 1 to 200 characters" });
    }
  });

  test("a user past the rate limit is told so", async ({ clients }) => {
    const { threadId, owner } = await setUp(clients.app);
    for (let i = 0; i < RATE_LIMIT; i++)
      await clients.app.threads.postMessage({ threadId, userId: owner, body: `m${i}` });
    const limited = await failure(
      clients.app.threads.postMessage({ threadId, userId: owner, body: "one too many" }),
    );
    expect(limited.code).toBe(Code.ResourceExhausted);
    expect(limited.message).toContain(`rate limit: ${RATE_LIMIT} writes and questions per minute`);
  });
});

// Time-dependent behaviour needs a clock the suite controls: the in-process service's (repo and local). In
// cluster mode the running service reads the system clock, and the test above covers what holds at any time.
describeInModes(["repo", "local"], "the rate limit over time", () => {
  const clockOf = (app: ThreadsTestClients) => {
    if (!app.clock)
      throw new Error("the in-process threads service hands out its clock in repo and local mode");
    return app.clock;
  };

  test("a burst straddling a minute boundary is still limited", async ({ clients }) => {
    const clock = clockOf(clients.app);
    clock.set(Date.UTC(2025, 0, 1, 12, 0, 59, 500));
    const { threadId, owner } = await setUp(clients.app);
    for (let i = 0; i < RATE_LIMIT; i++)
      await clients.app.threads.postMessage({ threadId, userId: owner, body: `m${i}` });
    clock.advance(1_000); // 12:01:00.500, a new calendar minute
    const limited = await failure(
      clients.app.threads.postMessage({ threadId, userId: owner, body: "again" }),
    );
    expect(limited.code).toBe(Code.ResourceExhausted);
  });

  test("frees a spend once it is a full window old, and a refusal does not extend the wait", async ({
    clients,
  }) => {
    const clock = clockOf(clients.app);
    const { threadId, owner } = await setUp(clients.app);
    for (let i = 0; i < RATE_LIMIT; i++)
      await clients.app.threads.postMessage({ threadId, userId: owner, body: `m${i}` });
    clock.advance(RATE_WINDOW_MS - 1);
    const refused = await failure(
      clients.app.threads.postMessage({ threadId, userId: owner, body: "early" }),
    );
    expect(refused.code).toBe(Code.ResourceExhausted);
    clock.advance(1);
    await clients.app.threads.postMessage({ threadId, userId: owner, body: "on time" });
    const { messages } = await clients.app.threads.listMessages({ threadId, userId: owner, pageSize: 20 });
    expect(messages.map((m) => m.body).at(-1)).toBe("on time");
  });
});
