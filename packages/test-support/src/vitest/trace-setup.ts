// Vitest setup file of the integration project (integrationConfig adds it): one trace per test, in every
// mode, appended to artifacts/<service>/trace-<mode>.jsonl when the test finishes.
import { beforeEach, inject } from "vitest";
import { integrationModeFrom } from "../mode.js";
import { beginTestTrace, endTestTrace } from "../trace/recorder.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Where this run's test traces go; empty when tracing is off (INTEGRATION_TRACE=0). */
    integrationTraceFile: string;
  }
}

interface NamedTask {
  name: string;
  suite?: NamedTask;
  file?: { name: string };
  filepath?: string;
}

/** "<file relative to the package> > <describe>... > <test>": the same in every mode. */
export function traceTestName(task: NamedTask): string {
  const names = [task.name];
  // The file is the outermost suite (it has a filepath); its name is the first part already.
  for (let suite = task.suite; suite && suite.filepath === undefined; suite = suite.suite) {
    names.unshift(suite.name);
  }
  return [task.file?.name ?? "", ...names].join(" > ");
}

const file = inject("integrationTraceFile");
if (file) {
  const mode = integrationModeFrom();
  beforeEach(({ task, onTestFinished }) => {
    const name = traceTestName(task);
    beginTestTrace(name, mode);
    onTestFinished(() => {
      endTestTrace(name, task.result?.state ?? "unknown", file);
    });
  });
}
