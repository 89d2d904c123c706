// Generic key commands (db.c, expire.c) and the SCAN family's cursor handling.
import { type CallContext, type CommandDefinition, Refusal } from "../context.js";
import { globMatch } from "../glob.js";
import { realNow } from "../keyspace.js";
import { int64Arg, intArg } from "../numbers.js";
import { OK, type Reply, ReplyError, Status } from "../resp.js";
import { INT64_MAX, INT64_MIN, is, safeMs, syntaxError } from "./common.js";

function expireGeneric(
  ctx: CallContext,
  args: string[],
  unit: "s" | "ms",
  relative: boolean,
  command: string,
): Reply {
  const [key, when] = args as [string, string];
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  for (const opt of args.slice(2)) {
    if (is(opt, "nx")) nx = true;
    else if (is(opt, "xx")) xx = true;
    else if (is(opt, "gt")) gt = true;
    else if (is(opt, "lt")) lt = true;
    else throw new ReplyError(`ERR Unsupported option ${opt}`);
  }
  if (nx && (xx || gt || lt))
    throw new ReplyError("ERR NX and XX, GT or LT options at the same time are not compatible");
  if (gt && lt) throw new ReplyError("ERR GT and LT options at the same time are not compatible");
  let at = int64Arg(when);
  const invalid = () => new ReplyError(`ERR invalid expire time in '${command}' command`);
  if (unit === "s") {
    if (at > INT64_MAX / 1000n || at < INT64_MIN / 1000n) throw invalid();
    at *= 1000n;
  }
  const base = relative ? BigInt(realNow()) : 0n;
  if (at > INT64_MAX - base) throw invalid();
  at += base;
  if (!ctx.ks.exists(key)) return 0;
  const current = ctx.ks.expiry(key);
  if (nx && current !== undefined) return 0;
  if (xx && current === undefined) return 0;
  if (gt && (current === undefined || at <= BigInt(current))) return 0;
  if (lt && current !== undefined && at >= BigInt(current)) return 0;
  if (at <= BigInt(realNow())) {
    ctx.ks.delete(key);
    return 1;
  }
  ctx.ks.setExpiry(key, safeMs(at, command));
  return 1;
}

function ttlGeneric(ctx: CallContext, key: string, ms: boolean, absolute: boolean): Reply {
  if (!ctx.ks.exists(key)) return -2;
  const at = ctx.ks.expiry(key);
  if (at === undefined) return -1;
  if (absolute) return ms ? at : Math.floor((at + 500) / 1000);
  const ttl = Math.max(0, at - realNow());
  return ms ? ttl : Math.floor((ttl + 500) / 1000);
}

function renameGeneric(ctx: CallContext, [from, to]: string[], nx: boolean): Reply {
  const source = ctx.ks.dump(from as string);
  if (!source) throw new ReplyError("ERR no such key");
  if (from === to) return nx ? 0 : OK;
  if (ctx.ks.exists(to as string)) {
    if (nx) return 0;
    ctx.ks.delete(to as string);
  }
  ctx.ks.delete(from as string);
  ctx.ks.replace(to as string, source.value, source.zset);
  if (source.expiry !== undefined) ctx.ks.setExpiry(to as string, source.expiry);
  return nx ? 1 : OK;
}

/** parseScanCursorOrReply: an unsigned decimal. */
function cursorArg(text: string): string {
  if (!/^\+?\d+$/.test(text) || BigInt(text) > 2n ** 64n - 1n) throw new ReplyError("ERR invalid cursor");
  return BigInt(text).toString();
}

/** Options of SCAN (withType) and of HSCAN/SSCAN/ZSCAN. */
function scanOptions(args: string[], from: number, withType: boolean) {
  let count = 10;
  let pattern: string | undefined;
  let type: string | undefined;
  for (let i = from; i < args.length; ) {
    const left = args.length - i;
    if (is(args[i], "count") && left >= 2) {
      count = intArg(args[i + 1] as string);
      if (count < 1) throw syntaxError();
      i += 2;
    } else if (is(args[i], "match") && left >= 2) {
      pattern = args[i + 1] === "*" ? undefined : args[i + 1];
      i += 2;
    } else if (withType && is(args[i], "type") && left >= 2) {
      type = args[i + 1];
      i += 2;
    } else throw syntaxError();
  }
  return { count, pattern, type };
}

/**
 * One SCAN-family page over `items` (every element, in a stable order, with its reply entries). When the
 * collection is small enough that Redis answers it in one call (or everything fits in COUNT), the double
 * does too; otherwise it pages through a snapshot so a full iteration sees every element present throughout.
 */
export function scanPage(
  ctx: CallContext,
  what: string,
  cursor: string,
  count: number,
  items: string[],
  oneCall: boolean,
): { cursor: string; page: string[] } {
  if (cursor === "0") {
    if (oneCall || items.length <= count) return { cursor: "0", page: items };
    const opened = ctx.server.cursors.open(items);
    const next = ctx.server.cursors.next(opened.cursor, count);
    return next ?? { cursor: "0", page: [] };
  }
  const next = ctx.server.cursors.next(cursor, count);
  if (!next) {
    throw new Refusal(
      `${what} with cursor ${cursor}`,
      "the cursor was not returned by this double (or its iteration ended), and Redis's cursors encode hash-table positions the double does not have",
    );
  }
  return next;
}

export const keyCommands: Record<string, CommandDefinition> = {
  del: { handler: (ctx, keys) => keys.filter((key) => ctx.ks.delete(key)).length },
  unlink: { handler: (ctx, keys) => keys.filter((key) => ctx.ks.delete(key)).length },
  exists: { handler: (ctx, keys) => keys.filter((key) => ctx.ks.exists(key)).length },
  touch: { handler: (ctx, keys) => keys.filter((key) => ctx.ks.exists(key)).length },
  type: { handler: (ctx, [key]) => new Status(ctx.ks.type(key as string) ?? "none") },
  expire: { handler: (ctx, args) => expireGeneric(ctx, args, "s", true, "expire") },
  pexpire: { handler: (ctx, args) => expireGeneric(ctx, args, "ms", true, "pexpire") },
  expireat: { handler: (ctx, args) => expireGeneric(ctx, args, "s", false, "expireat") },
  pexpireat: { handler: (ctx, args) => expireGeneric(ctx, args, "ms", false, "pexpireat") },
  ttl: { handler: (ctx, [key]) => ttlGeneric(ctx, key as string, false, false) },
  pttl: { handler: (ctx, [key]) => ttlGeneric(ctx, key as string, true, false) },
  expiretime: { handler: (ctx, [key]) => ttlGeneric(ctx, key as string, false, true) },
  pexpiretime: { handler: (ctx, [key]) => ttlGeneric(ctx, key as string, true, true) },
  persist: {
    handler: (ctx, [key]) => (ctx.ks.exists(key as string) && ctx.ks.persist(key as string) ? 1 : 0),
  },
  rename: { handler: (ctx, args) => renameGeneric(ctx, args, false) },
  renamenx: { handler: (ctx, args) => renameGeneric(ctx, args, true) },
  copy: {
    handler(ctx, args) {
      const [from, to] = args as [string, string];
      let replace = false;
      for (const opt of args.slice(2)) {
        if (is(opt, "replace")) replace = true;
        else throw syntaxError();
      }
      if (from === to) throw new ReplyError("ERR source and destination objects are the same");
      const source = ctx.ks.dump(from);
      if (!source) return 0;
      if (ctx.ks.exists(to)) {
        if (!replace) return 0;
        ctx.ks.delete(to);
      }
      const value =
        typeof source.value === "string"
          ? source.value
          : Array.isArray(source.value)
            ? [...source.value]
            : source.value instanceof Set
              ? new Set(source.value)
              : new Map(source.value as Map<string, string>);
      ctx.ks.replace(to, value as typeof source.value, source.zset);
      if (source.expiry !== undefined) ctx.ks.setExpiry(to, source.expiry);
      return 1;
    },
    refuses: [
      [
        "COPY ... DB",
        "copies into another database (refused in every mode: outside the environment's prefix)",
      ],
    ],
  },
  keys: {
    handler(ctx, [pattern]) {
      const all = ctx.ks.keys();
      return pattern === "*" ? all : all.filter((key) => globMatch(pattern as string, key));
    },
    note: "keys come back in insertion order; Redis's order is unspecified",
  },
  scan: {
    handler(ctx, args) {
      const cursor = cursorArg(args[0] as string);
      const { count, pattern, type } = scanOptions(args, 1, true);
      const items = ctx.ks.keys();
      const { cursor: next, page } = scanPage(ctx, "SCAN", cursor, count, items, false);
      const kept = page.filter(
        (key) =>
          ctx.ks.exists(key) &&
          (pattern === undefined || globMatch(pattern, key)) &&
          (type === undefined || (ctx.ks.type(key) ?? "none") === type.toLowerCase()),
      );
      return [next, kept];
    },
    note: "pages differ from Redis's (COUNT is a page size); a full iteration returns the same keys",
  },
};

/** HSCAN/SSCAN/ZSCAN: cursor, then the key (missing: empty page), then options. */
export function collectionScan(
  ctx: CallContext,
  args: string[],
  what: string,
  entries: (key: string) => { items: string[][]; oneCall: boolean } | undefined,
): Reply {
  const cursor = cursorArg(args[1] as string);
  const found = entries(args[0] as string);
  if (!found) return ["0", []];
  const { count, pattern } = scanOptions(args, 2, false);
  const byName = new Map(found.items.map((item) => [item[0] as string, item]));
  const { cursor: next, page } = scanPage(ctx, what, cursor, count, [...byName.keys()], found.oneCall);
  const out: string[] = [];
  for (const name of page) {
    const item = byName.get(name);
    if (item && (pattern === undefined || globMatch(pattern, name))) out.push(...item);
  }
  return [next, out];
}
