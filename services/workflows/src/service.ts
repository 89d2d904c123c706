import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { WorkflowClient } from "@temporalio/client";
import type pg from "pg";
import {
  DeleteRunResponseSchema,
  GetRunResponseSchema,
  type Run,
  RunSchema,
  RunState,
  StartOnboardingResponseSchema,
  type WorkflowsService,
} from "./gen/workflows/v1/workflows_pb.js";

/** What the workflows service needs: its database and Temporal's workflow client on its task queue. */
export interface WorkflowsDependencies {
  db: pg.Pool;
  workflow: Pick<WorkflowClient, "start">;
  taskQueue: string;
}

const UUID = /^[0-9a-f-]{36}$/;
const USER_ID = /^[A-Za-z0-9_.@-]{1,128}$/;
const STATES: Record<string, RunState> = {
  running: RunState.RUNNING,
  completed: RunState.COMPLETED,
  failed: RunState.FAILED,
};

interface RunRow {
  id: string;
  tenant_id: string;
  user_id: string;
  state: string;
  thread_id: string | null;
  error: string | null;
}
const toRun = (row: RunRow): Run =>
  create(RunSchema, {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    state: STATES[row.state] ?? RunState.UNSPECIFIED,
    threadId: row.thread_id ?? "",
    error: row.error ?? "",
  });

/** The workflows service's handlers: runs in Postgres, onboarding as a Temporal workflow. */
export function createWorkflowsService(deps: WorkflowsDependencies): ServiceImpl<typeof WorkflowsService> {
  return {
    async startOnboarding(request) {
      if (!UUID.test(request.tenantId))
        throw new ConnectError("tenant_id must be a tenant's UUID", Code.InvalidArgument);
      if (!USER_ID.test(request.userId))
        throw new ConnectError("user_id is required and must be a user id", Code.InvalidArgument);
      const row: RunRow = {
        id: randomUUID(),
        tenant_id: request.tenantId,
        user_id: request.userId,
        state: "running",
        thread_id: null,
        error: null,
      };
      await deps.db.query("insert into runs (id, tenant_id, user_id, state) values ($1, $2, $3, 'running')", [
        row.id,
        row.tenant_id,
        row.user_id,
      ]);
      await deps.workflow.start("onboarding", {
        workflowId: `onboarding-${row.id}`,
        taskQueue: deps.taskQueue,
        args: [row.id, row.tenant_id, row.user_id],
      });
      return create(StartOnboardingResponseSchema, { run: toRun(row) });
    },

    async getRun(request) {
      if (!UUID.test(request.runId))
        throw new ConnectError("run_id must be a run's UUID", Code.InvalidArgument);
      const { rows } = await deps.db.query<RunRow>(
        "select id, tenant_id, user_id, state, thread_id, error from runs where id = $1",
        [request.runId],
      );
      const row = rows[0];
      if (!row) throw new ConnectError(`run ${request.runId} not found`, Code.NotFound);
      return create(GetRunResponseSchema, { run: toRun(row) });
    },

    async deleteRun(request) {
      if (!UUID.test(request.runId))
        throw new ConnectError("run_id must be a run's UUID", Code.InvalidArgument);
      const { rows } = await deps.db.query<{ id: string }>(
        "delete from runs where id = $1 and state <> 'running' returning id",
        [request.runId],
      );
      if (rows.length === 0) {
        const { rows: left } = await deps.db.query<{ state: string }>(
          "select state from runs where id = $1",
          [request.runId],
        );
        if (left[0])
          throw new ConnectError(
            `run ${request.runId} is still running; delete it once it has completed or failed`,
            Code.FailedPrecondition,
          );
        throw new ConnectError(`run ${request.runId} not found`, Code.NotFound);
      }
      return create(DeleteRunResponseSchema, {});
    },
  };
}
