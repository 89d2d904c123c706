// Strings and counters, following Redis 7.0's t_string.c.
import { type CommandDefinition, type Handler, Refusal } from "../context.js";
import {
  addLongDouble,
  formatLongDouble,
  inInt64,
  int64Arg,
  longDoubleIsFinite,
  parseInt64,
  parseLongDouble,
  UnsupportedNumber,
} from "../numbers.js";
import { OK, type Reply, ReplyError } from "../resp.js";
import { arityError, expireAt, is, syntaxError } from "./common.js";

const MAX_STRING = 512 * 1024 * 1024;

type ExpireFlag = "EX" | "PX" | "EXAT" | "PXAT" | "KEEPTTL" | "PERSIST";

/** parseExtendedStringArgumentsOrReply of SET (set) and GETEX (get). */
function parseStringOptions(args: string[], from: number, kind: "set" | "get") {
  let nx = false;
  let xx = false;
  let get = false;
  let expire: { flag: ExpireFlag; value?: string } | undefined;
  const has = (...flags: ExpireFlag[]) => expire !== undefined && flags.includes(expire.flag);
  for (let j = from; j < args.length; j++) {
    const opt = args[j] as string;
    const next = args[j + 1];
    if (is(opt, "nx") && !xx && kind === "set") nx = true;
    else if (is(opt, "xx") && !nx && kind === "set") xx = true;
    else if (is(opt, "get") && kind === "set") get = true;
    else if (is(opt, "keepttl") && !has("PERSIST", "EX", "EXAT", "PX", "PXAT") && kind === "set")
      expire = { flag: "KEEPTTL" };
    else if (is(opt, "persist") && kind === "get" && !has("EX", "EXAT", "PX", "PXAT", "KEEPTTL"))
      expire = { flag: "PERSIST" };
    else if (is(opt, "ex") && !has("KEEPTTL", "PERSIST", "EXAT", "PX", "PXAT") && next !== undefined) {
      expire = { flag: "EX", value: next };
      j++;
    } else if (is(opt, "px") && !has("KEEPTTL", "PERSIST", "EX", "EXAT", "PXAT") && next !== undefined) {
      expire = { flag: "PX", value: next };
      j++;
    } else if (is(opt, "exat") && !has("KEEPTTL", "PERSIST", "EX", "PX", "PXAT") && next !== undefined) {
      expire = { flag: "EXAT", value: next };
      j++;
    } else if (is(opt, "pxat") && !has("KEEPTTL", "PERSIST", "EX", "EXAT", "PX") && next !== undefined) {
      expire = { flag: "PXAT", value: next };
      j++;
    } else throw syntaxError();
  }
  return { nx, xx, get, expire };
}

function expiryOf(
  expire: { flag: ExpireFlag; value?: string } | undefined,
  command: string,
): number | undefined {
  if (!expire?.value) return undefined;
  const unit = expire.flag === "EX" || expire.flag === "EXAT" ? "s" : "ms";
  return expireAt(expire.value, unit, expire.flag === "EX" || expire.flag === "PX", command);
}

function setGeneric(
  ctx: Parameters<CommandDefinition["handler"]>[0],
  key: string,
  value: string,
  options: { nx?: boolean; xx?: boolean; get?: boolean; keepTtl?: boolean; at?: number },
): Reply {
  let old: string | null = null;
  if (options.get) old = ctx.ks.getString(key) ?? null;
  const found = ctx.ks.exists(key);
  if ((options.nx && found) || (options.xx && !found)) return options.get ? old : null;
  if (options.keepTtl) ctx.ks.put(key, value);
  else ctx.ks.replace(key, value);
  if (options.at !== undefined) ctx.ks.setExpiry(key, options.at);
  return options.get ? old : OK;
}

function counter(ctx: Parameters<CommandDefinition["handler"]>[0], key: string, by: bigint): Reply {
  const current = ctx.ks.getString(key);
  let value = 0n;
  if (current !== undefined) {
    const parsed = parseInt64(current);
    if (parsed === undefined) throw new ReplyError("ERR value is not an integer or out of range");
    value = parsed;
  }
  const next = value + by;
  if (!inInt64(next)) throw new ReplyError("ERR increment or decrement would overflow");
  ctx.ks.put(key, next.toString());
  return next;
}

/** INCRBYFLOAT's arithmetic, shared with HINCRBYFLOAT: long double, printed the way Redis prints it. */
export function addFloatText(current: string, increment: string, what: string, notFloat: string): string {
  try {
    const base = parseLongDouble(current);
    if (base === undefined) throw new ReplyError(notFloat);
    const by = parseLongDouble(increment);
    if (by === undefined) throw new ReplyError("ERR value is not a valid float");
    const sum = addLongDouble(base, by);
    if (!longDoubleIsFinite(sum)) throw new ReplyError("ERR increment would produce NaN or Infinity");
    return formatLongDouble(sum);
  } catch (error) {
    if (error instanceof UnsupportedNumber) {
      throw new Refusal(
        `${what} with ${JSON.stringify(error.message)}`,
        "hexadecimal or out-of-range long doubles are not emulated",
      );
    }
    throw error;
  }
}

/** GETRANGE's index arithmetic on a string of `length` bytes. */
export function substring(value: string, startArg: string, endArg: string): string {
  let start = Number(int64Arg(startArg));
  let end = Number(int64Arg(endArg));
  const length = value.length;
  if (start < 0 && end < 0 && start > end) return "";
  if (start < 0) start = length + start;
  if (end < 0) end = length + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= length) end = length - 1;
  if (start > end || length === 0) return "";
  return value.slice(start, end + 1);
}

/** GETRANGE (and SUBSTR): both offsets must be integers even when the key is missing. */
const getrange: Handler = (ctx, [key, start, end]) => {
  int64Arg(start as string);
  int64Arg(end as string);
  const value = ctx.ks.getString(key as string);
  if (value === undefined) return "";
  return substring(value, start as string, end as string);
};

export const stringCommands: Record<string, CommandDefinition> = {
  get: { handler: (ctx, [key]) => ctx.ks.getString(key as string) ?? null },
  set: {
    handler(ctx, args) {
      const [key, value] = args as [string, string];
      const options = parseStringOptions(args, 2, "set");
      const at = expiryOf(options.expire, "set");
      return setGeneric(ctx, key, value, {
        nx: options.nx,
        xx: options.xx,
        get: options.get,
        keepTtl: options.expire?.flag === "KEEPTTL",
        ...(at === undefined ? {} : { at }),
      });
    },
  },
  setnx: {
    handler: (ctx, [key, value]) =>
      setGeneric(ctx, key as string, value as string, { nx: true }) === null ? 0 : 1,
  },
  setex: {
    handler: (ctx, [key, seconds, value]) =>
      setGeneric(ctx, key as string, value as string, {
        at: expireAt(seconds as string, "s", true, "setex"),
      }),
  },
  psetex: {
    handler: (ctx, [key, ms, value]) =>
      setGeneric(ctx, key as string, value as string, { at: expireAt(ms as string, "ms", true, "psetex") }),
  },
  getset: {
    handler: (ctx, [key, value]) => setGeneric(ctx, key as string, value as string, { get: true }),
  },
  getdel: {
    handler(ctx, [key]) {
      const value = ctx.ks.getString(key as string);
      if (value === undefined) return null;
      ctx.ks.delete(key as string);
      return value;
    },
  },
  getex: {
    handler(ctx, args) {
      const key = args[0] as string;
      const options = parseStringOptions(args, 1, "get");
      const at = expiryOf(options.expire, "getex");
      const value = ctx.ks.getString(key);
      if (value === undefined) return null;
      if (at !== undefined) ctx.ks.setExpiry(key, at);
      else if (options.expire?.flag === "PERSIST") ctx.ks.persist(key);
      return value;
    },
  },
  mget: {
    handler: (ctx, keys) =>
      keys.map((key) => (ctx.ks.type(key) === "string" ? (ctx.ks.getString(key) as string) : null)),
  },
  mset: {
    handler(ctx, args) {
      if (args.length % 2 !== 0) throw arityError("mset");
      for (let i = 0; i < args.length; i += 2) ctx.ks.replace(args[i] as string, args[i + 1] as string);
      return OK;
    },
  },
  msetnx: {
    handler(ctx, args) {
      if (args.length % 2 !== 0) throw arityError("msetnx");
      for (let i = 0; i < args.length; i += 2) if (ctx.ks.exists(args[i] as string)) return 0;
      for (let i = 0; i < args.length; i += 2) ctx.ks.replace(args[i] as string, args[i + 1] as string);
      return 1;
    },
  },
  append: {
    handler(ctx, [key, value]) {
      const current = ctx.ks.getString(key as string) ?? "";
      const next = current + (value as string);
      if (next.length > MAX_STRING)
        throw new ReplyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
      ctx.ks.put(key as string, next);
      return next.length;
    },
  },
  strlen: { handler: (ctx, [key]) => (ctx.ks.getString(key as string) ?? "").length },
  getrange: { handler: getrange },
  // SUBSTR is GETRANGE's old name (Redis 1.0): the same handler.
  substr: { handler: getrange },
  setrange: {
    handler(ctx, [key, offsetArg, value]) {
      const offset = Number(int64Arg(offsetArg as string));
      if (offset < 0) throw new ReplyError("ERR offset is out of range");
      const current = ctx.ks.getString(key as string);
      const v = value as string;
      if (current === undefined && v.length === 0) return 0;
      if (current !== undefined && v.length === 0) return current.length;
      if (offset + v.length > MAX_STRING) {
        throw new ReplyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
      }
      const base = (current ?? "").padEnd(offset, "\u0000");
      const next = base.slice(0, offset) + v + base.slice(offset + v.length);
      ctx.ks.put(key as string, next);
      return next.length;
    },
  },
  incr: { handler: (ctx, [key]) => counter(ctx, key as string, 1n) },
  decr: { handler: (ctx, [key]) => counter(ctx, key as string, -1n) },
  incrby: { handler: (ctx, [key, by]) => counter(ctx, key as string, int64Arg(by as string)) },
  decrby: {
    handler(ctx, [key, by]) {
      const value = int64Arg(by as string);
      if (value === -(2n ** 63n)) throw new ReplyError("ERR decrement would overflow");
      return counter(ctx, key as string, -value);
    },
  },
  incrbyfloat: {
    handler(ctx, [key, by]) {
      const current = ctx.ks.getString(key as string) ?? "0";
      const next = addFloatText(current, by as string, "INCRBYFLOAT", "ERR value is not a valid float");
      ctx.ks.put(key as string, next);
      return next;
    },
  },
};
