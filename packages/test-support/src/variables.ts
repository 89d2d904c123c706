import type { EnvironmentVariables } from "./dependency.js";
import { TestSupportError } from "./errors.js";
import { ambiguousUserinfo, redactTarget } from "./redact.js";

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
  const ambiguous = ambiguousUserinfo(raw);
  if (ambiguous) {
    // Nothing of the user information is shown: it holds a password that is not where a parser would look.
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${name} does not parse unambiguously: its user information (before the host) has ${ambiguous}, so the ` +
        "password would be split and partly sent to name resolution as a host. Nothing was connected. " +
        "Percent-encode the user name and password (encodeURIComponent: @ is %40, : is %3A, / is %2F, # is %23, ? is %3F, % is %25).",
    );
  }
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
