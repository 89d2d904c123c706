import {
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from "@temporalio/client";
import { ulid } from "ulid";
import { TestSupportError } from "../errors.js";

/** What a programmed workflow sees: its id, a state shared with its signal and query handlers, and its signals. */
export interface StubWorkflowContext {
  readonly workflowId: string;
  readonly state: Record<string, unknown>;
  /** Resolves with the arguments of the next signal of that name (including ones already received). */
  nextSignal(name: string): Promise<unknown[]>;
}

/** How one workflow type behaves in the stub. */
export interface StubWorkflowBehaviour {
  /** The workflow's body: its return value is the result, a throw is the failure. */
  run(context: StubWorkflowContext, ...args: unknown[]): unknown;
  queries?: Record<string, (context: StubWorkflowContext, ...args: unknown[]) => unknown>;
  signals?: Record<string, (context: StubWorkflowContext, ...args: unknown[]) => void>;
}

/** One call the stub received. */
export interface StubCall {
  kind: "start" | "signal" | "query" | "cancel" | "terminate" | "describe" | "result";
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
}

type Status = "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED" | "TERMINATED";

interface Execution {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  status: Status;
  startTime: Date;
  closeTime?: Date;
  context: StubWorkflowContext;
  outcome: Promise<unknown>;
  settle(status: Status, value?: unknown): void;
  deliver(name: string, args: unknown[]): void;
}

const nameOf = (typeOrDefinition: unknown): string =>
  typeof typeOrDefinition === "string"
    ? typeOrDefinition
    : ((typeOrDefinition as { name?: string })?.name ?? String(typeOrDefinition));

/**
 * A typed stand-in for `client.workflow` in repo mode: programmed workflow types run in-process, every
 * call is recorded, running duplicate ids are refused like the server does by default, and a type
 * nobody programmed fails with its name.
 */
export class TemporalStub {
  /** Every call, in order. */
  readonly calls: StubCall[] = [];
  private readonly executions = new Map<string, Execution>();

  constructor(
    private readonly behaviours: Readonly<Record<string, StubWorkflowBehaviour>>,
    private readonly defaultTaskQueue: string,
  ) {}

  /** Ids of executions still running (what reset terminates). */
  running(): string[] {
    return [...this.executions.values()].filter((e) => e.status === "RUNNING").map((e) => e.workflowId);
  }

  async start(
    workflowTypeOrFunc: unknown,
    options: { workflowId: string; taskQueue?: string; args?: unknown[] },
  ) {
    const workflowType = nameOf(workflowTypeOrFunc);
    const taskQueue = options?.taskQueue ?? this.defaultTaskQueue;
    if (!options?.workflowId) {
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `start(${workflowType}) needs a workflowId, as the real client does; use uniqueWorkflowId("${workflowType}").`,
      );
    }
    const behaviour = this.behaviours[workflowType];
    if (!behaviour) {
      const known = Object.keys(this.behaviours);
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `the Temporal stub has no workflow type "${workflowType}" (started as ${options.workflowId}); ` +
          `program it with temporal({ stub: { ${workflowType}: { run: ... } } })` +
          (known.length ? `; programmed types: ${known.join(", ")}` : "; no type is programmed") +
          ". Nothing answers an unprogrammed workflow with an empty success.",
      );
    }
    const existing = this.executions.get(options.workflowId);
    if (existing?.status === "RUNNING") {
      throw new WorkflowExecutionAlreadyStartedError(
        "Workflow execution already started",
        options.workflowId,
        workflowType,
      );
    }
    const args = options.args ?? [];
    this.calls.push({ kind: "start", workflowType, workflowId: options.workflowId, taskQueue, args });
    const execution = this.launch(options.workflowId, workflowType, taskQueue, behaviour, args);
    this.executions.set(options.workflowId, execution);
    return Object.assign(this.getHandle(options.workflowId, execution.runId), {
      firstExecutionRunId: execution.runId,
    });
  }

  async execute(
    workflowTypeOrFunc: unknown,
    options: { workflowId: string; taskQueue?: string; args?: unknown[] },
  ) {
    const handle = await this.start(workflowTypeOrFunc, options);
    return handle.result();
  }

  getHandle(workflowId: string, runId?: string) {
    const find = (kind: StubCall["kind"], args: unknown[] = []) => {
      const execution = this.executions.get(workflowId);
      if (!execution || (runId && execution.runId !== runId)) {
        throw new WorkflowNotFoundError(`Workflow execution not found: ${workflowId}`, workflowId, runId);
      }
      this.calls.push({
        kind,
        workflowType: execution.workflowType,
        workflowId,
        taskQueue: execution.taskQueue,
        args,
      });
      return execution;
    };
    const unsupported = (method: string) => async () => {
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `the Temporal stub does not implement handle.${method}() (workflow ${workflowId}); run this suite in local or cluster mode.`,
      );
    };
    return {
      workflowId,
      runId,
      client: undefined as never,
      result: async () => find("result").outcome,
      signal: async (definition: unknown, ...args: unknown[]) => {
        const execution = find("signal", [nameOf(definition), ...args]);
        if (execution.status !== "RUNNING") {
          throw new WorkflowNotFoundError(
            "workflow execution already completed",
            workflowId,
            execution.runId,
          );
        }
        const name = nameOf(definition);
        const handler = this.behaviours[execution.workflowType]?.signals?.[name];
        handler?.(execution.context, ...args);
        execution.deliver(name, args);
      },
      query: async (definition: unknown, ...args: unknown[]) => {
        const execution = find("query", [nameOf(definition), ...args]);
        const name = nameOf(definition);
        const handler = this.behaviours[execution.workflowType]?.queries?.[name];
        if (!handler) {
          throw new TestSupportError(
            "INVALID_OPTIONS",
            `workflow type "${execution.workflowType}" has no query "${name}" programmed in the Temporal stub.`,
          );
        }
        return handler(execution.context, ...args);
      },
      cancel: async () => {
        const execution = find("cancel");
        if (execution.status === "RUNNING") {
          execution.settle("CANCELLED", new CancelledFailure("Workflow cancelled"));
        }
        // The client answers with the server's (empty) response, not undefined (found by the drift harness).
        return {};
      },
      terminate: async (reason?: string) => {
        const execution = find("terminate", reason === undefined ? [] : [reason]);
        if (execution.status !== "RUNNING") {
          throw new WorkflowNotFoundError(
            "workflow execution already completed",
            workflowId,
            execution.runId,
          );
        }
        execution.settle("TERMINATED", new TerminatedFailure(reason ?? "Terminated"));
        return {};
      },
      describe: async () => {
        const execution = find("describe");
        return {
          type: execution.workflowType,
          workflowId,
          runId: execution.runId,
          taskQueue: execution.taskQueue,
          status: { name: execution.status },
          startTime: execution.startTime,
          closeTime: execution.closeTime,
        };
      },
      fetchHistory: unsupported("fetchHistory"),
      executeUpdate: unsupported("executeUpdate"),
      startUpdate: unsupported("startUpdate"),
    };
  }

  private launch(
    workflowId: string,
    workflowType: string,
    taskQueue: string,
    behaviour: StubWorkflowBehaviour,
    args: unknown[],
  ): Execution {
    const inbox = new Map<string, unknown[][]>();
    const waiting = new Map<string, ((args: unknown[]) => void)[]>();
    let settleOutcome!: (status: Status, value?: unknown) => void;
    const execution = {
      workflowId,
      runId: ulid().toLowerCase(),
      workflowType,
      taskQueue,
      status: "RUNNING" as Status,
      startTime: new Date(),
      context: {
        workflowId,
        state: {},
        nextSignal(name: string) {
          const queued = inbox.get(name);
          if (queued?.length) return Promise.resolve(queued.shift() as unknown[]);
          return new Promise<unknown[]>((resolve) =>
            waiting.set(name, [...(waiting.get(name) ?? []), resolve]),
          );
        },
      },
      settle: (status: Status, value?: unknown) => settleOutcome(status, value),
      deliver(name: string, signalArgs: unknown[]) {
        const next = waiting.get(name)?.shift();
        if (next) next(signalArgs);
        else inbox.set(name, [...(inbox.get(name) ?? []), signalArgs]);
      },
    } as Omit<Execution, "outcome"> as Execution;
    execution.outcome = new Promise<unknown>((resolve, reject) => {
      settleOutcome = (status, value) => {
        if (execution.status !== "RUNNING") return;
        execution.status = status;
        execution.closeTime = new Date();
        if (status === "COMPLETED") resolve(value);
        else
          reject(
            new WorkflowFailedError(`Workflow execution ${status.toLowerCase()}`, value as Error, 0 as never),
          );
      };
    });
    // Nobody awaiting the result must not crash the process on a failure.
    execution.outcome.catch(() => {});
    queueMicrotask(async () => {
      try {
        settleOutcome("COMPLETED", await behaviour.run(execution.context, ...args));
      } catch (error) {
        const failure =
          error instanceof ApplicationFailure
            ? error
            : ApplicationFailure.create({
                message: (error as Error)?.message ?? String(error),
                cause: error as Error,
              });
        settleOutcome("FAILED", failure);
      }
    });
    return execution;
  }
}
