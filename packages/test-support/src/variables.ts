import type { EnvironmentVariables } from "./dependency.js";
import { TestSupportError } from "./errors.js";
import { redactTarget } from "./redact.js";

/**
 * The URL in variable `name`, checked to be a URL with one of `protocols` (e.g. ["redis:", "rediss:"]);
 * the error names the variable, shows the value without secrets, and gives `example` as the fix.
 */
export function readUrlVariable(
  env: EnvironmentVariables,
  name: string,
  kind: string,
  protocols: readonly string[],
  example: string,
): URL {
  const raw = env[name] ?? "";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${name} is not a URL (${redactTarget(raw) || "empty"}); set it to ${example}.`,
    );
  }
  if (!protocols.includes(url.protocol)) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${name} uses ${url.protocol}// but ${kind} needs ${protocols.map((p) => `${p}//`).join(" or ")} (got ${redactTarget(raw)}).`,
    );
  }
  return url;
}
