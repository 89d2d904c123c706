// Vitest global setup of the integration project: a run starts its mode's trace file afresh.
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";

export default function clearTraceFile(project: TestProject): void {
  const file = project.getProvidedContext().integrationTraceFile;
  if (file) rmSync(file, { force: true });
}
