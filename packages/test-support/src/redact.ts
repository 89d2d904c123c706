const SECRET_PARAMS = /^(password|passwd|pass|pwd|token|secret|api[-_]?key|access[-_]?token|sslpassword)$/i;

/**
 * Why a URL's user information is ambiguous, or undefined when it is not. A password with an unencoded
 * "@", ":", "/", "#" or "?" makes parsers disagree on where the host starts, so part of the password can
 * end up as a host name sent to name resolution; such a URL must be refused before any network use.
 */
export function ambiguousUserinfo(raw: string): string | undefined {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw);
  if (!scheme) return undefined;
  const rest = raw.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const after = end === -1 ? "" : rest.slice(end);
  const at = authority.lastIndexOf("@");
  if (at === -1) {
    // An "@" after a "/", "?" or "#" that ends the authority early: the password held that character.
    return after.includes("@") ? 'an unencoded "/", "?" or "#" before the "@"' : undefined;
  }
  const userinfo = authority.slice(0, at);
  if (userinfo.includes("@")) return 'an unencoded "@"';
  if ((userinfo.match(/:/g) ?? []).length > 1) return 'an unencoded ":"';
  try {
    decodeURIComponent(userinfo);
  } catch {
    // A raw "%" that starts no percent-encoded character: drivers fail to decode it, or decode it wrongly.
    return 'a "%" that does not start a percent-encoded character';
  }
  if (after.includes("@")) return 'an unencoded "/", "?" or "#" before the "@"';
  return undefined;
}

/**
 * Returns a URL with its password and secret-looking query parameters replaced by `***`.
 * A URL whose user information is ambiguous keeps only its scheme. Strings that are not URLs get
 * `user:password@` removed with the same mask.
 */
export function redactTarget(target: string): string {
  if (ambiguousUserinfo(target)) {
    return `${/^[a-z][a-z0-9+.-]*:\/\//i.exec(target)?.[0] ?? ""}*** (not shown: its user information does not parse unambiguously)`;
  }
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
