export { createActivities, type OnboardingActivities } from "./activities.js";
export { type Run, RunState, WorkflowsService } from "./gen/workflows/v1/workflows_pb.js";
export { createWorkflowsServer } from "./server.js";
export { createWorkflowsService, type WorkflowsDependencies } from "./service.js";

/** The onboarding workflow code, for a Worker's workflowsPath. */
export const workflowsPath = new URL("./workflows.js", import.meta.url);
export { onboard } from "./onboarding.js";
