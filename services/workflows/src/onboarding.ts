// The onboarding steps, written once: the Temporal workflow runs them with proxied activities, and the
// repo-mode stub runs them with the same activities called directly. No Node imports: it is bundled.
import type { OnboardingActivities } from "./activities.js";

/** Creates the tenant's first thread and records the outcome; throws with the reason when it fails. */
export async function onboard(
  activities: Pick<OnboardingActivities, "createWelcomeThread" | "recordProgress">,
  runId: string,
  tenantId: string,
  userId: string,
): Promise<string> {
  try {
    const threadId = await activities.createWelcomeThread(tenantId, userId);
    await activities.recordProgress(runId, "completed", threadId);
    return threadId;
  } catch (error) {
    const cause = (error as { cause?: Error }).cause ?? (error as Error);
    await activities.recordProgress(runId, "failed", undefined, cause.message);
    throw new Error(`onboarding failed: ${cause.message}`);
  }
}
