import { Code, ConnectError } from "@connectrpc/connect";
import type { ThreadsClient } from "@org/threads/testing";
import { ApplicationFailure } from "@temporalio/common";
import type pg from "pg";

/** What the onboarding activities need. */
export interface ActivityDependencies {
  db: pg.Pool;
  threads: ThreadsClient;
}

/** The onboarding activities, bound to their dependencies (a Worker's, or the repo-mode stub's). */
export function createActivities(deps: ActivityDependencies) {
  return {
    /** Creates the tenant's first thread with a welcome message; a refusal from threads is not retried. */
    async createWelcomeThread(tenantId: string, userId: string): Promise<string> {
      try {
        const { thread } = await deps.threads.createThread({ tenantId, userId, title: "Welcome" });
        const threadId = thread?.id ?? "";
        await deps.threads.postMessage({ threadId, userId, body: "Welcome to your new workspace." });
        return threadId;
      } catch (error) {
        const e = ConnectError.from(error);
        const permanent = [Code.PermissionDenied, Code.NotFound, Code.InvalidArgument].includes(e.code);
        const message = `threads refused: ${Code[e.code]}: ${e.rawMessage}`;
        if (permanent) throw ApplicationFailure.nonRetryable(message, Code[e.code]);
        throw ApplicationFailure.retryable(message, Code[e.code]);
      }
    },

    /** Records where a run is. */
    async recordProgress(
      runId: string,
      state: "running" | "completed" | "failed",
      threadId?: string,
      error?: string,
    ) {
      await deps.db.query(
        "update runs set state = $2, thread_id = coalesce($3, thread_id), error = $4, updated_at = now() where id = $1",
        [runId, state, threadId ?? null, error ?? null],
      );
    },
  };
}

export type OnboardingActivities = ReturnType<typeof createActivities>;
