import { createHash } from "node:crypto";

/**
 * Reduces values to what should be the same in every mode: volatile values (UUIDs, ULIDs, random hex
 * tokens, timestamps) become their type, ids a placeholder that is consistent within one test (the same
 * id seen twice maps to the same placeholder), secrets are masked, and object keys are sorted.
 */
export class Normalizer {
  private readonly ids = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  /** The placeholder of one id, the same for the same id within this normalizer. */
  placeholder(kind: string, raw: string): string {
    const key = `${kind}:${raw.toLowerCase()}`;
    let found = this.ids.get(key);
    if (found === undefined) {
      const n = (this.counters.get(kind) ?? 0) + 1;
      this.counters.set(kind, n);
      found = `<${kind}:${n}>`;
      this.ids.set(key, found);
    }
    return found;
  }

  /** A string with its volatile parts replaced. */
  text(value: string): string {
    if (value.length > MAX_TEXT) {
      return `<text:${value.length}:${createHash("sha256").update(value).digest("hex").slice(0, 12)}>`;
    }
    if (!MAYBE_VOLATILE.test(value)) return value;
    return value
      .replace(TIMESTAMP, "<timestamp>")
      .replace(UUID, (m) => this.placeholder("uuid", m))
      .replace(ULID, (m) => this.placeholder("ulid", m))
      .replace(HEX, (_match, lead: string, token: string) => `${lead}${this.placeholder("hex", token)}`);
  }

  /** Any value as plain, comparable JSON. */
  value(value: unknown, depth = 0): unknown {
    if (value === null || value === undefined) return null;
    switch (typeof value) {
      case "string":
        return this.text(value);
      case "number":
        if (!Number.isFinite(value)) return String(value);
        // Milliseconds since the epoch (2001 to 2286): a clock reading, not a result.
        return Number.isInteger(value) && value >= 1e12 && value < 1e13 ? "<epoch-ms>" : value;
      case "bigint":
        return this.text(value.toString());
      case "boolean":
        return value;
      case "function":
        return `<function ${(value as { name?: string }).name || "anonymous"}>`;
      case "symbol":
        return "<symbol>";
    }
    if (depth > MAX_DEPTH) return "<deep>";
    if (value instanceof Date) return "<timestamp>";
    if (Buffer.isBuffer(value) || value instanceof Uint8Array)
      return this.text(Buffer.from(value).toString("utf8"));
    if (value instanceof Error) return this.error(value);
    if (value instanceof Map) return this.value(Object.fromEntries(value), depth);
    if (value instanceof Set) return this.value([...value], depth);
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ITEMS).map((item) => this.value(item, depth + 1));
      if (value.length > MAX_ITEMS) items.push(`<${value.length - MAX_ITEMS} more>`);
      return items;
    }
    const record = value as Record<string, unknown>;
    // A protobuf Timestamp message (protobuf-es v2 marks messages with $typeName).
    if (record.$typeName === "google.protobuf.Timestamp") return "<timestamp>";
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) {
      // $typeName, $unknown, the SDK's $response: transport details, not answers.
      if (key.startsWith("$") || key.startsWith("_")) continue;
      const item = record[key];
      if (item === undefined || typeof item === "function") continue;
      const set = item !== "" && item !== null;
      out[key] =
        SECRET_KEY.test(key) && set
          ? "<redacted>"
          : CURSOR_KEY.test(key) && set
            ? "<cursor>"
            : this.value(item, depth + 1);
    }
    return out;
  }

  /** An error as what every mode must agree on: its kind and codes, never its stack or full message. */
  error(error: unknown): Record<string, unknown> {
    if (!(error instanceof Error) && (typeof error !== "object" || error === null)) {
      return { error: typeof error, value: this.value(error) };
    }
    const e = error as Error & Record<string, unknown>;
    const out: Record<string, unknown> = { error: e.name || "Error" };
    for (const key of ERROR_FIELDS) {
      const field = e[key];
      if (field !== undefined && field !== null && field !== "") out[key] = this.value(field);
    }
    const cause = e.cause as (Error & Record<string, unknown>) | undefined;
    if (cause && typeof cause === "object") {
      const type = cause.type ?? cause.name;
      if (type !== undefined) out.cause = this.value(type);
    }
    return out;
  }
}

const MAX_TEXT = 4096;
const MAX_DEPTH = 12;
const MAX_ITEMS = 200;
/** Error fields that carry a code every implementation must agree on. */
const ERROR_FIELDS = ["code", "type", "statusCode", "apiErrorCode"] as const;
const SECRET_KEY = /^(password|passwd|secret|token|api[-_]?key|authorization|credentials?)$/i;
/** OpenFGA's paging cursors: opaque, and each implementation encodes its own ids in them. */
export const CURSOR_KEY = /^continuation_?token$/i;
const MAYBE_VOLATILE = /[0-9]/;
// Bounded by anything but a letter or digit, so ids inside names (it_svc_db_<ulid>) are found too.
const UUID = /(?<![0-9a-z])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-z])/gi;
/** Crockford base32, 26 characters, the first at most 7: a ULID (ulid()'s ids, workflow ids). */
const ULID = /(?<![0-9a-z])[0-7][0-9A-HJKMNP-TV-Z]{25}(?![0-9a-z])/gi;
/** A random hex token of 8 or more characters (randomUUID().slice(0, 8) and the like), not inside a word. */
const HEX = /(^|[^0-9a-z<:])([0-9a-f]{8,})(?![0-9a-z])/gi;
const TIMESTAMP = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?/g;

/** JSON with sorted keys: equal values give equal strings. */
export function canonical(value: unknown): string {
  return JSON.stringify(value);
}
