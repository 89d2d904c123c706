// Summaries and the CI guard of `pnpm bench`: medians and p95 of samples, ratios between medians of one
// run, and the comparison of those ratios with a committed baseline. Absolute times are never compared:
// the machine is shared and its speed changes from run to run; a ratio of two medians measured side by
// side in one run moves far less.

/** Median and p95 (nearest rank) of a list of samples in milliseconds. */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p95: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { n: 0, median: Number.NaN, p95: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const p95 = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(0.95 * sorted.length) - 1))] as number;
  return { n: sorted.length, median, p95 };
}

/** One guarded ratio: `numerator` median over `denominator` median, both metric ids of the same run. */
export interface RatioDefinition {
  readonly id: string;
  readonly numerator: string;
  readonly denominator: string;
  /** Why this ratio is guarded: what regression it catches. */
  readonly why: string;
  /**
   * How much it may grow over its baseline before --check fails (2 means: to twice the baseline), chosen
   * from repeated runs on the shared machine; undefined shows the ratio without guarding it.
   */
  readonly threshold?: number;
}

/** A ratio's value in a run. */
export interface RatioValue {
  readonly id: string;
  readonly value: number;
}

/** The verdict on one ratio against the baseline. */
export interface RatioVerdict {
  readonly id: string;
  readonly baseline: number | undefined;
  readonly current: number;
  readonly threshold: number | undefined;
  /** current / baseline: above `threshold` is a regression. */
  readonly change: number | undefined;
  readonly regressed: boolean;
}

/** Computes each defined ratio from the run's medians; a ratio whose metrics were not measured is left out. */
export function computeRatios(
  definitions: readonly RatioDefinition[],
  medians: ReadonlyMap<string, number>,
): RatioValue[] {
  const values: RatioValue[] = [];
  for (const definition of definitions) {
    const numerator = medians.get(definition.numerator);
    const denominator = medians.get(definition.denominator);
    if (numerator === undefined || denominator === undefined || !(denominator > 0)) continue;
    values.push({ id: definition.id, value: numerator / denominator });
  }
  return values;
}

/**
 * Compares a run's ratios with the baseline's. A guarded ratio (one with a threshold) regresses when it
 * grew by more than its threshold (2 means: to more than twice its baseline); getting faster never fails.
 * A ratio without a threshold or a baseline is reported without a verdict, and a guarded baseline ratio
 * missing from the run fails (a measurement that silently stopped running guards nothing).
 */
export function compareRatios(
  current: readonly RatioValue[],
  baseline: readonly RatioValue[],
  thresholds: ReadonlyMap<string, number>,
): { verdicts: RatioVerdict[]; missing: string[] } {
  for (const [id, threshold] of thresholds) {
    if (!(threshold > 1)) throw new Error(`the threshold of ${id} must be above 1; got ${threshold}`);
  }
  const before = new Map(baseline.map((ratio) => [ratio.id, ratio.value]));
  const verdicts = current.map((ratio): RatioVerdict => {
    const base = before.get(ratio.id);
    const threshold = thresholds.get(ratio.id);
    const change = base === undefined || !(base > 0) ? undefined : ratio.value / base;
    return {
      id: ratio.id,
      baseline: base,
      current: ratio.value,
      threshold,
      change,
      regressed: change !== undefined && threshold !== undefined && change > threshold,
    };
  });
  const measured = new Set(current.map((ratio) => ratio.id));
  const missing = baseline.map((ratio) => ratio.id).filter((id) => thresholds.has(id) && !measured.has(id));
  return { verdicts, missing };
}

/** A baseline from several runs: each ratio's median over the runs that measured it. */
export function medianRatios(runs: readonly (readonly RatioValue[])[]): RatioValue[] {
  const values = new Map<string, number[]>();
  for (const run of runs)
    for (const ratio of run) values.set(ratio.id, [...(values.get(ratio.id) ?? []), ratio.value]);
  return [...values].map(([id, list]) => ({ id, value: summarize(list).median }));
}
