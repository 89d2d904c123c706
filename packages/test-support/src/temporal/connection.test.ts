import * as grpc from "@grpc/grpc-js";
import type { GrpcRetryOptions } from "@temporalio/client";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { retryInterceptor, retryScope } from "./connection.js";

// The interceptor is driven through grpc-js's own types with a scripted channel: each attempt answers
// with the next status of `script`. Delays are fixed at 100 ms so fake timers can step through them.
const policy: GrpcRetryOptions = {
  delayFunction: () => 100,
  retryableDecider: (attempt, status) => attempt < 10 && status.code === grpc.status.UNAVAILABLE,
};

interface Outcome {
  message?: unknown;
  status?: grpc.StatusObject;
}

type Attempt = ReturnType<Parameters<grpc.Interceptor>[1]>;

/** What one attempt does: answer with a status (and a message), or stall until it is cancelled. */
type Step = { code: grpc.status; message?: string } | { stall: true };

function scripted(script: Step[]) {
  const attempts: { cancelled?: grpc.status }[] = [];
  const nextCall = (): Attempt => {
    const step = script[Math.min(attempts.length, script.length - 1)] as Step;
    const attempt: { cancelled?: grpc.status } = {};
    attempts.push(attempt);
    let listener: Partial<grpc.InterceptingListener> = {};
    const answer = (code: grpc.status, message: unknown) => {
      listener.onReceiveMessage?.(message);
      listener.onReceiveStatus?.({ code, details: grpc.status[code], metadata: new grpc.Metadata() });
    };
    return {
      start: (_metadata, received) => {
        listener = received ?? {};
      },
      sendMessage() {},
      sendMessageWithContext() {},
      halfClose: () => {
        if (!("stall" in step)) queueMicrotask(() => answer(step.code, step.message ?? null));
      },
      startRead() {},
      cancelWithStatus(code) {
        attempt.cancelled = code;
        answer(code, null);
      },
      getPeer: () => "scripted",
      getAuthContext: () => null,
    };
  };
  return { attempts, nextCall };
}

function call(scope = retryScope(), script: Step[]) {
  const channel = scripted(script);
  const interceptor = retryInterceptor(grpc, policy, scope);
  const options = {
    method_definition: { path: "/x/Y", requestStream: false, responseStream: false },
  } as unknown as grpc.InterceptorOptions;
  const intercepting = interceptor(options, channel.nextCall);
  const outcome: Outcome = {};
  intercepting.start(new grpc.Metadata(), {
    onReceiveMetadata() {},
    onReceiveMessage: (message) => {
      outcome.message = message;
    },
    onReceiveStatus: (status) => {
      if (outcome.status) throw new Error("status delivered twice");
      outcome.status = status;
    },
  });
  intercepting.sendMessage({ request: 1 });
  intercepting.halfClose();
  return { scope, outcome, intercepting, attempts: channel.attempts };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

it("retries an unavailable server with the policy and delivers the answer that finally comes", async () => {
  const { outcome, attempts } = call(undefined, [
    { code: grpc.status.UNAVAILABLE },
    { code: grpc.status.UNAVAILABLE },
    { code: grpc.status.OK, message: "answer" },
  ]);
  await vi.advanceTimersByTimeAsync(250);
  expect(attempts).toHaveLength(3);
  expect(outcome).toEqual({ message: "answer", status: expect.objectContaining({ code: grpc.status.OK }) });
});

it("delivers a status the policy does not retry at once, after one attempt", async () => {
  const { outcome, attempts } = call(undefined, [{ code: grpc.status.NOT_FOUND }]);
  await vi.advanceTimersByTimeAsync(1000);
  expect(attempts).toHaveLength(1);
  expect(outcome.status?.code).toBe(grpc.status.NOT_FOUND);
});

it("a cancel while the call waits to retry ends it at once with CANCELLED, and no attempt follows", async () => {
  const { outcome, attempts, intercepting } = call(undefined, [{ code: grpc.status.UNAVAILABLE }]);
  await vi.advanceTimersByTimeAsync(150);
  expect(attempts).toHaveLength(2);
  intercepting.cancelWithStatus(grpc.status.CANCELLED, "Cancelled on client");
  expect(outcome.status?.code).toBe(grpc.status.CANCELLED);
  await vi.advanceTimersByTimeAsync(5000);
  expect(attempts).toHaveLength(2);
});

it("a cancel during an attempt cancels that attempt, and the call ends with its status", async () => {
  const { outcome, attempts, intercepting } = call(undefined, [{ stall: true }]);
  await vi.advanceTimersByTimeAsync(10);
  intercepting.cancelWithStatus(grpc.status.CANCELLED, "Cancelled on client");
  expect(attempts[0]?.cancelled).toBe(grpc.status.CANCELLED);
  expect(outcome.status?.code).toBe(grpc.status.CANCELLED);
  await vi.advanceTimersByTimeAsync(5000);
  expect(attempts).toHaveLength(1);
});

it("closing the connection ends every call waiting to retry, names the close, and starts no attempt after it", async () => {
  const scope = retryScope();
  const first = call(scope, [{ code: grpc.status.UNAVAILABLE }]);
  const second = call(scope, [{ code: grpc.status.UNAVAILABLE }]);
  await vi.advanceTimersByTimeAsync(50);
  expect(scope.waiting.size).toBe(2);
  scope.close();
  for (const { outcome, attempts } of [first, second]) {
    expect(outcome.status?.code).toBe(grpc.status.CANCELLED);
    expect(outcome.status?.details).toContain("closed while the call waited to retry");
    expect(attempts).toHaveLength(1);
  }
  expect(scope.waiting.size).toBe(0);
  // The SDK's own interceptor would start an attempt here, on a closed channel: "Channel has been shut down".
  await vi.advanceTimersByTimeAsync(10_000);
  expect(first.attempts).toHaveLength(1);
  expect(second.attempts).toHaveLength(1);
});

it("after the close, an attempt in flight is left to end, and a failed attempt is delivered as it is, never retried", async () => {
  const scope = retryScope();
  const { outcome, attempts } = call(scope, [{ stall: true }]);
  await vi.advanceTimersByTimeAsync(10);
  scope.close();
  expect(outcome.status).toBeUndefined();
  const intercepting = call(scope, [{ code: grpc.status.UNAVAILABLE }]);
  await vi.advanceTimersByTimeAsync(1000);
  expect(intercepting.attempts).toHaveLength(1);
  expect(intercepting.outcome.status?.code).toBe(grpc.status.UNAVAILABLE);
  expect(attempts).toHaveLength(1);
});

it("passes streaming calls through without retrying them", async () => {
  const interceptor = retryInterceptor(grpc, policy, retryScope());
  const { attempts, nextCall } = scripted([{ code: grpc.status.UNAVAILABLE }]);
  const options = {
    method_definition: { path: "/x/Stream", requestStream: false, responseStream: true },
  } as unknown as grpc.InterceptorOptions;
  const intercepting = interceptor(options, nextCall);
  expect(attempts).toHaveLength(1);
  expect(intercepting.getPeer()).toBe("scripted");
});
