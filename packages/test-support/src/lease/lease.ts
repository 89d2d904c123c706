// Leases: what a run creates on a live server is registered there with an expiry that only a heartbeat
// from the living run pushes forward. A run that dies (SIGKILL, OOM, a lost machine) stops renewing, its
// leases expire, and `pnpm test:integration sweep` removes exactly what they name. Liveness is decided by
// the server's own clock and the lease, never by guessing from names or ages of objects.
import { hostname } from "node:os";
import type { EnvironmentVariables } from "../dependency.js";
import { TestSupportError } from "../errors.js";

/** The variable holding how long a lease lives without a heartbeat, in ms. */
export const LEASE_VARIABLE = "INTEGRATION_LEASE_MS";
/** Default lease: a dead run's objects are swept about a minute after it died. */
export const DEFAULT_LEASE_MS = 60_000;
const MIN_LEASE_MS = 1000;
const MAX_LEASE_MS = 24 * 3600 * 1000;

/** The lease length from INTEGRATION_LEASE_MS (1 s to 24 h), else 60 s. */
export function leaseMsFrom(env: EnvironmentVariables): number {
  const raw = env[LEASE_VARIABLE];
  if (raw === undefined || raw === "") return DEFAULT_LEASE_MS;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < MIN_LEASE_MS || value > MAX_LEASE_MS) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${LEASE_VARIABLE}=${JSON.stringify(raw)} is not a whole number of milliseconds from ${MIN_LEASE_MS} to ${MAX_LEASE_MS}; ` +
        `unset it for the default (${DEFAULT_LEASE_MS}).`,
    );
  }
  return value;
}

/** Who holds a lease, for sweep reports: the run, the process and the machine. */
export function leaseHolder(runId: string): string {
  return `run ${runId}, pid ${process.pid} on ${hostname()}`;
}

/** A heartbeat renewing one lease; stop() ends it. */
export interface Heartbeat {
  stop(): void;
  /** The last renewal's failure, if the last one failed. */
  readonly lastError: unknown;
}

/**
 * Renews a lease every third of its length, so two renewals can fail before it expires. The timer does
 * not keep the process alive, and a renewal that fails is retried at the next beat (the server may be
 * restarting); a renewal still running is not started twice.
 */
export function startHeartbeat(leaseMs: number, renew: () => Promise<void>): Heartbeat {
  let busy = false;
  const state: { lastError: unknown } = { lastError: undefined };
  const timer = setInterval(
    () => {
      if (busy) return;
      busy = true;
      renew().then(
        () => {
          state.lastError = undefined;
          busy = false;
        },
        (error: unknown) => {
          state.lastError = error;
          busy = false;
        },
      );
    },
    Math.max(200, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get lastError() {
      return state.lastError;
    },
  };
}

/** What a sweep found on one server. */
export interface SweepReport {
  /** e.g. "postgres at postgres://postgres@127.0.0.1:5432/integration_test". */
  readonly server: string;
  /** Objects whose lease expired: removed, or (dry run) to be removed. */
  readonly expired: SweptObject[];
  /** Leases still alive: their holders are running; nothing of theirs was touched. */
  readonly live: number;
  /** Objects the sweep could not remove, with why. */
  readonly failed: { readonly object: string; readonly error: string }[];
}

/** One object of an expired lease. */
export interface SweptObject {
  /** e.g. "schema it_platform_db_01k…", "12 keys it:platform:01k…:cache:*", "store 01K…". */
  readonly object: string;
  /** Who held the lease, as registered. */
  readonly holder: string;
}

/** Milliseconds as "45 s" or "2 min", for messages about when a lease expires. */
export function leaseText(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}
