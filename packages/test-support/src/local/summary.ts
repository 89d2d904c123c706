import type { SupervisorStats } from "./protocol.js";

/** The run's engine line: each engine started once, what it is and what its start cost; databases handed out. */
export function describeEngines(stats: SupervisorStats): string[] {
  if (stats.starts.length === 0) return ["local engines: none was needed"];
  const counts = new Map<string, number>();
  for (const start of stats.starts) counts.set(start.kind, (counts.get(start.kind) ?? 0) + 1);
  const lines = stats.starts.map(
    (s) =>
      `  ${s.kind}: started ${counts.get(s.kind)}× in this run, up in ${(s.startMs / 1000).toFixed(1)} s: ${s.implementation}`,
  );
  const { handedOut, fromPool, templates } = stats.databases;
  if (handedOut > 0)
    lines.push(
      `  postgres databases: ${handedOut} (one per environment, from ${templates} template${templates === 1 ? "" : "s"}; ${fromPool} already copied when asked for)`,
    );
  return ["local engines (one of each kind for the whole run):", ...lines];
}
