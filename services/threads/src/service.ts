import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Permission } from "@org/platform";
import type { PlatformClient } from "@org/platform/testing";
import type { Redis } from "ioredis";
import type pg from "pg";
import {
  AskResponseSchema,
  CreateThreadResponseSchema,
  DeleteThreadResponseSchema,
  ListMessagesResponseSchema,
  type Message,
  MessageSchema,
  PostMessageResponseSchema,
  ThreadSchema,
  type ThreadsService,
} from "./gen/threads/v1/threads_pb.js";
import { streamCompletion } from "./provider.js";

/** Where the service reads the time, so tests can hold it still or move it; production uses the system's. */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now() gives them. */
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** The rate limit's window: a user may spend `rateLimitPerMinute` in any 60 seconds. */
export const RATE_WINDOW_MS = 60_000;

/** What the threads service needs. */
export interface ThreadsDependencies {
  db: pg.Pool;
  cache: Redis;
  platform: PlatformClient;
  /** fetch bound to the chat-completions provider's base URL. */
  llmFetch: typeof fetch;
  /** Writes and questions per user per minute (default 30). */
  rateLimitPerMinute?: number;
  /** The time the rate limit counts in (default: the system clock). */
  clock?: Clock;
}

/** The longest message body, in characters. */
export const MAX_BODY = 4000;
const MAX_PAGE = 100;
const USER_ID = /^[A-Za-z0-9_.@-]{1,128}$/;
const UUID = /^[0-9a-f-]{36}$/;

function field(value: string, name: string, pattern: RegExp): string {
  if (!value) throw new ConnectError(`${name} is required`, Code.InvalidArgument);
  if (!pattern.test(value))
    throw new ConnectError(`${name} ${JSON.stringify(value)} is malformed`, Code.InvalidArgument);
  return value;
}

interface MessageRow {
  id: string;
  thread_id: string;
  seq: number;
  author_user_id: string;
  body: string;
}
const toMessage = (row: MessageRow): Message =>
  create(MessageSchema, {
    id: row.id,
    threadId: row.thread_id,
    authorUserId: row.author_user_id,
    body: row.body,
    seq: BigInt(row.seq),
  });

/** The threads service's handlers over Postgres, Redis, the platform and the provider. */
export function createThreadsService(deps: ThreadsDependencies): ServiceImpl<typeof ThreadsService> {
  const limit = deps.rateLimitPerMinute ?? 30;
  const clock = deps.clock ?? systemClock;

  /** Every read and write asks the platform first. */
  const authorize = async (tenantId: string, userId: string) => {
    let allowed: boolean;
    try {
      ({ allowed } = await deps.platform.checkAccess({ tenantId, userId, permission: Permission.VIEW }));
    } catch (error) {
      const e = ConnectError.from(error);
      throw new ConnectError(
        `platform: ${e.rawMessage}`,
        e.code === Code.NotFound ? Code.NotFound : Code.Unavailable,
      );
    }
    if (!allowed)
      throw new ConnectError(`user ${userId} may not access tenant ${tenantId}`, Code.PermissionDenied);
  };

  const threadOf = async (threadId: string, userId: string) => {
    field(threadId, "thread_id", UUID);
    field(userId, "user_id", USER_ID);
    const { rows } = await deps.db.query<{ tenant_id: string }>(
      "select tenant_id from threads where id = $1",
      [threadId],
    );
    const thread = rows[0];
    if (!thread) throw new ConnectError(`thread ${threadId} not found`, Code.NotFound);
    await authorize(thread.tenant_id, userId);
    return thread;
  };

  /**
   * A sliding window per user in Redis: a sorted set of spends scored by time. A fixed per-minute bucket
   * would let a burst straddling a minute boundary through twice over; this refuses the (limit+1)th spend in
   * any 60 s. A refused spend is taken back, so being refused does not extend the wait.
   */
  const spend = async (userId: string) => {
    const now = clock.now();
    const key = `ratelimit:${userId}`;
    const member = `${now}:${randomUUID()}`;
    const results = await deps.cache
      .multi()
      .zremrangebyscore(key, "-inf", now - RATE_WINDOW_MS)
      .zadd(key, now, member)
      .zcard(key)
      .pexpire(key, RATE_WINDOW_MS)
      .exec();
    const [error, used] = results?.[2] ?? [new Error("the rate limit's transaction was discarded"), 0];
    if (error) throw error;
    if ((used as number) > limit) {
      await deps.cache.zrem(key, member);
      throw new ConnectError(
        `rate limit: ${limit} writes and questions per minute for user ${userId}`,
        Code.ResourceExhausted,
      );
    }
  };

  // First pages live in one hash per thread (a field per page size), so a write drops them with one DEL;
  // pattern deletes (KEYS/SCAN) would miss under ioredis's keyPrefix, which does not prefix patterns.
  const recent = async (threadId: string, pageSize: number): Promise<MessageRow[]> => {
    const key = `recent:${threadId}`;
    const cached = await deps.cache.hget(key, String(pageSize));
    if (cached) return JSON.parse(cached) as MessageRow[];
    const { rows } = await deps.db.query<MessageRow>(
      "select id, thread_id, seq, author_user_id, body from messages where thread_id = $1 order by seq limit $2",
      [threadId, pageSize],
    );
    await deps.cache.hset(key, String(pageSize), JSON.stringify(rows));
    await deps.cache.expire(key, 60);
    return rows;
  };

  return {
    async createThread(request) {
      const tenantId = field(request.tenantId, "tenant_id", UUID);
      const userId = field(request.userId, "user_id", USER_ID);
      const title = request.title.trim();
      if (!title || title.length > 200)
        throw new ConnectError("title must be 1 to 200 characters", Code.InvalidArgument);
      await authorize(tenantId, userId);
      const id = randomUUID();
      await deps.db.query("insert into threads (id, tenant_id, title, created_by) values ($1, $2, $3, $4)", [
        id,
        tenantId,
        title,
        userId,
      ]);
      return create(CreateThreadResponseSchema, {
        thread: create(ThreadSchema, { id, tenantId, title, createdBy: userId }),
      });
    },

    async postMessage(request) {
      if (!request.body.trim()) throw new ConnectError("body is required", Code.InvalidArgument);
      if (request.body.length > MAX_BODY) {
        throw new ConnectError(
          `body is ${request.body.length} characters; the limit is ${MAX_BODY}`,
          Code.InvalidArgument,
        );
      }
      await threadOf(request.threadId, request.userId);
      await spend(request.userId);
      const { rows } = await deps.db.query<{ next: number }>(
        "select coalesce(max(seq), 0) + 1 as next from messages where thread_id = $1",
        [request.threadId],
      );
      const row: MessageRow = {
        id: randomUUID(),
        thread_id: request.threadId,
        seq: Number(rows[0]?.next ?? 1),
        author_user_id: request.userId,
        body: request.body,
      };
      await deps.db.query(
        "insert into messages (id, thread_id, seq, author_user_id, body) values ($1, $2, $3, $4, $5)",
        [row.id, row.thread_id, row.seq, row.author_user_id, row.body],
      );
      await deps.cache.del(`recent:${request.threadId}`);
      return create(PostMessageResponseSchema, { message: toMessage(row) });
    },

    async listMessages(request) {
      const pageSize = request.pageSize === 0 ? 20 : request.pageSize;
      if (pageSize < 1 || pageSize > MAX_PAGE) {
        throw new ConnectError(`page_size must be 1 to ${MAX_PAGE}`, Code.InvalidArgument);
      }
      const after = request.pageToken ? Number(Buffer.from(request.pageToken, "base64url").toString()) : 0;
      if (!Number.isInteger(after) || after < 0)
        throw new ConnectError("page_token is not one this service issued", Code.InvalidArgument);
      await threadOf(request.threadId, request.userId);
      const rows =
        after === 0
          ? await recent(request.threadId, pageSize + 1)
          : (
              await deps.db.query<MessageRow>(
                "select id, thread_id, seq, author_user_id, body from messages where thread_id = $1 and seq > $2 order by seq limit $3",
                [request.threadId, after, pageSize + 1],
              )
            ).rows;
      const page = rows.slice(0, pageSize);
      const last = page.at(-1);
      return create(ListMessagesResponseSchema, {
        messages: page.map(toMessage),
        nextPageToken:
          rows.length > pageSize && last ? Buffer.from(String(last.seq)).toString("base64url") : "",
      });
    },

    async deleteThread(request) {
      await threadOf(request.threadId, request.userId);
      const { rows } = await deps.db.query<{ created_by: string }>(
        "select created_by from threads where id = $1",
        [request.threadId],
      );
      if (rows[0]?.created_by !== request.userId) {
        throw new ConnectError(
          `only the thread's creator may delete thread ${request.threadId}`,
          Code.PermissionDenied,
        );
      }
      await deps.db.query("delete from messages where thread_id = $1", [request.threadId]);
      await deps.db.query("delete from threads where id = $1", [request.threadId]);
      await deps.cache.del(`recent:${request.threadId}`);
      return create(DeleteThreadResponseSchema, {});
    },

    async *ask(request) {
      if (!request.question.trim()) throw new ConnectError("question is required", Code.InvalidArgument);
      await threadOf(request.threadId, request.userId);
      await spend(request.userId);
      const history = await recent(request.threadId, 20);
      const messages = [
        ...history.map((m) => ({ role: "user", content: m.body })),
        { role: "user", content: request.question },
      ];
      let sent = 0;
      try {
        for await (const delta of streamCompletion(deps.llmFetch, messages)) {
          sent++;
          yield create(AskResponseSchema, { delta });
        }
      } catch (error) {
        throw new ConnectError(
          `the provider failed ${sent > 0 ? `mid-stream after ${sent} chunks` : "before answering"}: ${(error as Error).message}`,
          Code.Unavailable,
        );
      }
    },
  };
}
