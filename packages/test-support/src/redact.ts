const SECRET_PARAMS = /^(password|passwd|pass|pwd|token|secret|api[-_]?key|access[-_]?token|sslpassword)$/i;

/**
 * Returns a URL with its password and secret-looking query parameters replaced by `***`.
 * Strings that are not URLs get `user:password@` removed with the same mask.
 */
export function redactTarget(target: string): string {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return target.replace(/\/\/([^:/@\s]+):[^@\s]*@/g, "//$1:***@");
  }
  if (url.password) url.password = "***";
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) url.searchParams.set(key, "***");
  }
  // URL encodes the mask; keep it readable.
  return url.toString().replace(/%2A%2A%2A/g, "***");
}

/** Every password in `target`, so messages from drivers can be scrubbed of it. */
export function secretsOf(target: string): string[] {
  try {
    const url = new URL(target);
    const secrets = [url.password, decodeURIComponent(url.password)];
    for (const [key, value] of url.searchParams) if (SECRET_PARAMS.test(key)) secrets.push(value);
    return [...new Set(secrets.filter((s) => s.length > 0))];
  } catch {
    return [];
  }
}

/** Replaces every occurrence of the given secrets in `text` with `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("***");
  return out;
}
