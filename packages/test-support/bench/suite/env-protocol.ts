// What run.ts asks of env-probe.ts and what the probe answers. env-probe.ts runs as a process of its own (one
// mode per process), so the two share these definitions here rather than by importing each other.

/** The dependency kinds the probe measures one by one. */
export const ENV_KINDS = ["postgres (PGlite)", "postgres (pg-mem)", "redis", "openfga", "temporal", "http"];
/** Every engine local mode starts, in one environment (issue 14's set-up target is read off this row). */
export const ALL_ENGINES = "postgres + redis + openfga + temporal";

export interface ProbeRequest {
  setups: number;
  resets: number;
  wholeTests: number;
  kinds: string[];
}

/** Samples in ms, per kind; `notRun` says why a kind could not run in this mode. */
export interface EnvProbeResult {
  mode?: string;
  calibration: number[];
  setup: Record<string, number[]>;
  reset: Record<string, number[]>;
  wholeTest: number[];
  notRun: Record<string, string>;
}
