// Workflow code: bundled for the Worker, so it imports only @temporalio/workflow and bundle-safe modules.
import { ApplicationFailure, proxyActivities } from "@temporalio/workflow";
import type { OnboardingActivities } from "./activities.js";
import { onboard } from "./onboarding.js";

const activities = proxyActivities<OnboardingActivities>({
  startToCloseTimeout: "10 seconds",
  retry: { maximumAttempts: 3, initialInterval: "200 milliseconds" },
});

/** Tenant onboarding: the first thread, and the run's progress recorded. */
export async function onboarding(runId: string, tenantId: string, userId: string): Promise<string> {
  try {
    return await onboard(activities, runId, tenantId, userId);
  } catch (error) {
    throw ApplicationFailure.nonRetryable((error as Error).message);
  }
}
