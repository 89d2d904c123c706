// Leases on a Temporal server: each environment in cluster mode holds a lease workflow
// (`test-support-lease-<service>-<name>-<instance>`, type `test-support-lease`) that no worker ever runs. Its
// execution timeout is the lease length, so the server's own timer decides expiry; a heartbeat renews it by
// starting a fresh run of the same id (TERMINATE_EXISTING), whose memo lists the workflows the environment
// started. The client that starts those workflows carries the lease id in its identity, which the server
// records in each workflow's start event. The sweep terminates a workflow only when the latest run of a lease
// timed out, that run's memo lists the workflow, and its first run was started under that very identity.
import type { Client } from "@temporalio/client";
import { errorText } from "../errors.js";
import { connectTemporal } from "../temporal/connection.js";
import type { SweepReport, SweptObject } from "./lease.js";

export const LEASE_WORKFLOW_TYPE = "test-support-lease";
/** No worker polls this queue: a lease workflow only ever waits for its timeout or its next renewal. */
export const LEASE_TASK_QUEUE = "test-support-leases";
const LEASE_ID = /^test-support-lease-[a-z][a-z0-9-]*-[A-Za-z_][A-Za-z0-9_]*-[0-9a-z]{26}$/;

/** The lease workflow id of one environment's temporal dependency. */
export function temporalLeaseId(service: string, name: string, instanceId: string): string {
  return `test-support-lease-${service}-${name}-${instanceId}`;
}

/** The client identity that marks workflows started under `leaseId` (the server records it at start). */
export function leaseIdentity(leaseId: string, base: string): string {
  return `${base} ${leaseId}`;
}

const identityNames = (identity: string, leaseId: string) => identity.split(" ").at(-1) === leaseId;

/** A lease held by one environment: renew() writes the current workflow list, release() ends it. */
export interface WorkflowLease {
  readonly id: string;
  renew(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Starts the lease workflow and returns its handle. `workflows()` is read at each renewal; renewals run one
 * at a time, and a caller joins the renewal that has not started yet, so what it added before calling is in it.
 */
export async function registerWorkflowLease(
  client: Client,
  leaseId: string,
  holder: string,
  leaseMs: number,
  workflows: () => string[],
  bound: <T>(what: string, action: () => Promise<T>) => Promise<T>,
): Promise<WorkflowLease> {
  const write = () =>
    bound("lease renewal", () =>
      client.workflow.start(LEASE_WORKFLOW_TYPE, {
        workflowId: leaseId,
        taskQueue: LEASE_TASK_QUEUE,
        workflowExecutionTimeout: leaseMs,
        workflowIdConflictPolicy: "TERMINATE_EXISTING",
        memo: { holder, leaseMs, workflows: workflows() },
      }),
    ).then(() => undefined);
  let chain: Promise<void> = Promise.resolve();
  let next: Promise<void> | undefined;
  const renew = () => {
    if (!next) {
      const queued = chain
        .catch(() => {})
        .then(() => {
          next = undefined;
          return write();
        });
      next = queued;
      chain = queued;
    }
    return next;
  };
  await renew();
  return {
    id: leaseId,
    renew,
    async release() {
      await chain.catch(() => {});
      try {
        await bound("lease release", () => client.workflow.getHandle(leaseId).terminate("released"));
      } catch (error) {
        // Already timed out (renewals failed for a whole lease): the sweep deletes it and finds nothing running.
        if ((error as Error).name !== "WorkflowNotFoundError") throw error;
      }
    },
  };
}

interface LeaseMemo {
  holder?: string;
  workflows?: string[];
}

/**
 * Terminates the workflows of every lease whose latest run timed out (or, with `dryRun`, lists them), then
 * deletes that run so the next sweep does not find it again. A live lease is not looked at; a listed workflow
 * started by anyone else (its start event names another identity) is left alone.
 */
export async function sweepTemporal(
  address: string,
  namespace: string,
  label: string,
  options: { dryRun: boolean; timeoutMs: number },
): Promise<SweepReport> {
  // Loaded only when a Temporal namespace is swept, like the dependency's own client.
  const { Client } = await import("@temporalio/client");
  const { connection, close } = await connectTemporal({ address, connectTimeout: options.timeoutMs });
  const within = <T>(action: () => Promise<T>) =>
    connection.withDeadline(Date.now() + options.timeoutMs, action);
  const client = new Client({ connection, namespace });
  const expired: SweptObject[] = [];
  const failed: { object: string; error: string }[] = [];
  let live = 0;
  try {
    const seen = new Set<string>();
    const timedOut = await within(async () => {
      const found: string[] = [];
      for await (const info of client.workflow.list({
        query: `WorkflowType = '${LEASE_WORKFLOW_TYPE}' AND ExecutionStatus = 'TimedOut'`,
      }))
        found.push(info.workflowId);
      return found;
    });
    live = (
      await within(() =>
        client.workflow.count(`WorkflowType = '${LEASE_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`),
      )
    ).count;
    for (const leaseId of timedOut) {
      if (seen.has(leaseId)) continue;
      seen.add(leaseId);
      if (!LEASE_ID.test(leaseId)) {
        failed.push({ object: `lease ${leaseId}`, error: "not an environment's lease id; left alone" });
        continue;
      }
      try {
        const lease = await within(() => client.workflow.getHandle(leaseId).describe());
        // Renewed after a lapse (alive), or released by a clean close (its workflows were terminated then).
        if (lease.status.name !== "TIMED_OUT") continue;
        const memo = (lease.memo ?? {}) as LeaseMemo;
        const terminated: string[] = [];
        const leftAlone: string[] = [];
        for (const workflowId of memo.workflows ?? []) {
          const handle = client.workflow.getHandle(workflowId);
          const info = await within(() => handle.describe()).catch((error: Error) => {
            if (error.name === "WorkflowNotFoundError") return undefined;
            throw error;
          });
          if (info?.status.name !== "RUNNING") continue;
          const firstRunId = info.raw.workflowExecutionInfo?.firstRunId || info.runId;
          const history = await within(() =>
            connection.workflowService.getWorkflowExecutionHistory({
              namespace,
              execution: { workflowId, runId: firstRunId },
              maximumPageSize: 1,
            }),
          );
          const identity =
            history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.identity ?? "";
          if (!identityNames(identity, leaseId)) {
            leftAlone.push(workflowId);
            continue;
          }
          if (!options.dryRun) {
            await within(() =>
              client.workflow
                .getHandle(workflowId, undefined, { firstExecutionRunId: firstRunId })
                .terminate(`test-support sweep: lease ${leaseId} expired`),
            );
          }
          terminated.push(workflowId);
        }
        if (!options.dryRun) {
          await within(() =>
            connection.workflowService.deleteWorkflowExecution({
              namespace,
              workflowExecution: { workflowId: leaseId, runId: lease.runId },
            }),
          );
        }
        const running = terminated.length > 0 ? `workflows ${terminated.join(", ")}` : "no running workflow";
        const others =
          leftAlone.length > 0 ? `; left alone, started by another client: ${leftAlone.join(", ")}` : "";
        expired.push({ object: `${running} (lease ${leaseId}${others})`, holder: memo.holder ?? "" });
      } catch (error) {
        failed.push({ object: `workflows of lease ${leaseId}`, error: errorText(error) });
      }
    }
    return { server: label, expired, live, failed };
  } finally {
    await close();
  }
}
