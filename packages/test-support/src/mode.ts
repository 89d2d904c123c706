import { TestSupportError } from "./errors.js";

/** The three integration modes, in order of how much real infrastructure they use. */
export const INTEGRATION_MODES = ["repo", "local", "cluster"] as const;

/** `repo`: in-process doubles only; `local`: doubles plus local engines; `cluster`: live services only. */
export type IntegrationMode = (typeof INTEGRATION_MODES)[number];

/** The variable that selects the mode; parseIntegrationMode is the only code that reads it. */
export const INTEGRATION_MODE_VARIABLE = "INTEGRATION_MODE";

/**
 * Parses a raw INTEGRATION_MODE value. Unset (undefined) means `repo`; every other value must match
 * exactly, so `Repo`, ` cluster`, `mock` and the empty string are errors rather than guesses.
 */
export function parseIntegrationMode(raw: string | undefined): IntegrationMode {
  if (raw === undefined) return "repo";
  if ((INTEGRATION_MODES as readonly string[]).includes(raw)) return raw as IntegrationMode;
  throw new TestSupportError(
    "INVALID_MODE",
    `${INTEGRATION_MODE_VARIABLE}=${JSON.stringify(raw)} is not a mode. ` +
      `Allowed values are ${INTEGRATION_MODES.map((m) => `"${m}"`).join(", ")} (exact, lower case, no spaces); ` +
      `unset it to get "repo".`,
  );
}

/** Reads the mode from an environment map (process.env by default). */
export function integrationModeFrom(
  env: Readonly<Record<string, string | undefined>> = process.env,
): IntegrationMode {
  return parseIntegrationMode(env[INTEGRATION_MODE_VARIABLE]);
}
