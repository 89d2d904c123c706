import type * as Grpc from "@grpc/grpc-js";
import type { Connection, ConnectionOptions, GrpcRetryOptions } from "@temporalio/client";

/**
 * A Temporal connection whose `close()` first ends every call still waiting to retry.
 *
 * Why: @temporalio/client retries a failed call (UNAVAILABLE and the like) from a timer, and
 * `Connection.close()` does not clear those timers. One that fires after the channel is closed makes
 * grpc-js throw "Channel has been shut down" inside the timer, an uncaught exception that fails the test
 * run (and, in a plain process, kills it). A call cancelled while it waits (an abort signal, a bound that
 * passed) also kept retrying. This connection uses the SDK's own retry policy through an interceptor of
 * ours that stops at cancel and at close, so the policy is unchanged and nothing outlives the connection.
 */
export interface TemporalConnection {
  readonly connection: Connection;
  /** Ends the calls waiting to retry (they fail with CANCELLED, naming the close), then closes the channel. */
  close(): Promise<void>;
}

/** One attempt of a call, as grpc-js hands it to an interceptor. */
type Attempt = ReturnType<Parameters<Grpc.Interceptor>[1]>;

/** The calls of one connection that wait to retry, each with the function that ends it now. */
export interface RetryScope {
  closed: boolean;
  readonly waiting: Set<() => void>;
  /** No retry starts from now on, and each call waiting to retry ends with CANCELLED. */
  close(): void;
}

export function retryScope(): RetryScope {
  const waiting = new Set<() => void>();
  return {
    closed: false,
    waiting,
    close() {
      this.closed = true;
      for (const endWait of [...waiting]) endWait();
    },
  };
}

/**
 * A retry interceptor with the SDK's policy for unary calls (every WorkflowService call is unary). It differs
 * from the SDK's only where the SDK's lets a call outlive its caller: a cancel during the wait ends the call at
 * once, and no retry starts once the connection is closing. Streaming calls pass through unretried.
 */
export function retryInterceptor(
  grpc: typeof Grpc,
  policy: GrpcRetryOptions,
  scope: RetryScope,
): Grpc.Interceptor {
  return (options, nextCall) => {
    const method = options.method_definition;
    if (method.requestStream || method.responseStream) return new grpc.InterceptingCall(nextCall(options));
    let metadata: Grpc.Metadata;
    let listener: Partial<Grpc.InterceptingListener> = {};
    let request: unknown;
    let attempt = 0;
    let current: Attempt | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;

    const finish = (status: Grpc.StatusObject, message: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      scope.waiting.delete(endWait);
      listener.onReceiveMessage?.(message);
      listener.onReceiveStatus?.(status);
    };
    const status = (code: Grpc.status, details: string): Grpc.StatusObject => ({
      code,
      details,
      metadata: new grpc.Metadata(),
    });
    const endWait = () =>
      finish(
        status(grpc.status.CANCELLED, "the Temporal connection was closed while the call waited to retry"),
        null,
      );

    const run = () => {
      scope.waiting.delete(endWait);
      if (done) return;
      attempt++;
      let message: unknown = null;
      const call = nextCall(options);
      current = call;
      call.start(metadata, {
        onReceiveMetadata: (received) => listener.onReceiveMetadata?.(received),
        onReceiveMessage: (received) => {
          message = received;
        },
        onReceiveStatus: (received) => {
          current = undefined;
          if (done) return;
          if (!scope.closed && policy.retryableDecider(attempt, received)) {
            scope.waiting.add(endWait);
            timer = setTimeout(run, policy.delayFunction(attempt, received));
          } else {
            finish(received, message);
          }
        },
      });
      call.sendMessage(request);
      call.halfClose();
    };

    // grpc-js runs the caller's start, message and half-close through the requester, which keeps them for the
    // attempts; a cancel reaches the placeholder below, which cancels the attempt in flight or ends the wait.
    const placeholder: Attempt = {
      cancelWithStatus(code, details) {
        if (current) current.cancelWithStatus(code, details);
        else finish(status(code, details), null);
      },
      getPeer: () => current?.getPeer() ?? "",
      getAuthContext: () => current?.getAuthContext() ?? null,
      // A unary attempt reads its one message by itself; the requester never passes these on.
      startRead() {},
      start() {},
      sendMessage() {},
      sendMessageWithContext() {},
      halfClose() {},
    };
    return new grpc.InterceptingCall(placeholder, {
      start(received, downstream) {
        metadata = received;
        listener = downstream;
      },
      sendMessage(message) {
        request = message;
      },
      halfClose: run,
    });
  };
}

/** Connects like `Connection.connect`, with the retry interceptor above. */
export async function connectTemporal(
  options: Pick<ConnectionOptions, "address" | "connectTimeout">,
): Promise<TemporalConnection> {
  // Both load when a suite first connects, never at import (grpc-js is loaded by the client anyway).
  const [{ Connection, defaultGrpcRetryOptions }, grpc] = await Promise.all([
    import("@temporalio/client"),
    import("@grpc/grpc-js"),
  ]);
  const scope = retryScope();
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...options,
      interceptors: [retryInterceptor(grpc, defaultGrpcRetryOptions(), scope)],
    });
  } catch (error) {
    scope.close();
    throw error;
  }
  return {
    connection,
    async close() {
      scope.close();
      await connection.close();
    },
  };
}
