// Lists (t_list.c), blocking pops included: a blocked client is served after the command that fed its key,
// in the order clients blocked, like Redis 7.
import type { Blocked, CallContext, CommandDefinition } from "../context.js";
import { intArg, parseInt64 } from "../numbers.js";
import { OK, type Reply, ReplyError } from "../resp.js";
import { arityError, is, mpopArgs, positiveCount, serveOrBlock, syntaxError, timeoutArg } from "./common.js";

type End = "left" | "right";

function endArg(text: string | undefined): End {
  if (is(text, "left")) return "left";
  if (is(text, "right")) return "right";
  throw syntaxError();
}

function push(ctx: CallContext, [key, ...values]: string[], end: End, onlyExisting: boolean): Reply {
  const list = ctx.ks.getList(key as string);
  if (!list && onlyExisting) return 0;
  const next = list ?? [];
  for (const value of values) {
    if (end === "left") next.unshift(value);
    else next.push(value);
  }
  ctx.ks.put(key as string, next);
  return next.length;
}

function pop(ctx: CallContext, args: string[], end: End, command: string): Reply {
  if (args.length > 2) throw arityError(command);
  const hasCount = args.length === 2;
  const count = hasCount ? positiveCount(args[1] as string) : 0;
  const key = args[0] as string;
  const list = ctx.ks.getList(key);
  if (!list) return null;
  if (hasCount && count === 0) return [];
  const take = (n: number) =>
    end === "left" ? list.splice(0, n) : list.splice(Math.max(0, list.length - n)).reverse();
  const popped = take(hasCount ? count : 1);
  ctx.ks.put(key, list);
  return hasCount ? popped : (popped[0] as string);
}

/** Sanitizes a start/stop pair the way LRANGE and LTRIM do; undefined when the range is empty. */
function range(length: number, startArg: number, endArg: number): [number, number] | undefined {
  let start = startArg;
  let end = endArg;
  if (start < 0) start = length + start;
  if (end < 0) end = length + end;
  if (start < 0) start = 0;
  if (start > end || start >= length) return undefined;
  if (end >= length) end = length - 1;
  return [start, end];
}

/** LMOVE's move, shared by the blocking variants. The caller has checked `from` holds a non-empty list. */
function move(ctx: CallContext, from: string, to: string, whereFrom: End, whereTo: End): Reply {
  const source = ctx.ks.getList(from);
  if (!source) return null;
  const target = ctx.ks.getList(to);
  const value = (whereFrom === "left" ? source.shift() : source.pop()) as string;
  if (from === to) {
    if (whereTo === "left") source.unshift(value);
    else source.push(value);
    ctx.ks.put(from, source);
    return value;
  }
  ctx.ks.put(from, source);
  const next = target ?? [];
  if (whereTo === "left") next.unshift(value);
  else next.push(value);
  ctx.ks.put(to, next);
  return value;
}

/** The first of `keys` holding a non-empty list (WRONGTYPE stops the search, as in Redis). */
function firstNonEmpty(ctx: CallContext, keys: string[]): string | undefined {
  for (const key of keys) {
    const list = ctx.ks.getList(key);
    if (list) return key;
  }
  return undefined;
}

function blockingPop(ctx: CallContext, args: string[], end: End, command: string): Reply | Blocked {
  const timeout = timeoutArg(args[args.length - 1] as string, command);
  const keys = args.slice(0, -1);
  const attempt = (): Reply | undefined => {
    const key = firstNonEmpty(ctx, keys);
    if (key === undefined) return undefined;
    return [key, pop(ctx, [key], end, command) as string];
  };
  return serveOrBlock(ctx, keys, timeout, attempt);
}

function blockingMove(
  ctx: CallContext,
  [from, to]: string[],
  whereFrom: End,
  whereTo: End,
  timeout: number,
): Reply | Blocked {
  const attempt = (): Reply | undefined => {
    if (!ctx.ks.getList(from as string)) return undefined;
    return move(ctx, from as string, to as string, whereFrom, whereTo);
  };
  return serveOrBlock(ctx, [from as string], timeout, attempt);
}

function mpop(ctx: CallContext, args: string[], blocking: boolean, command: string): Reply | Blocked {
  const { timeout, keys, where: end, count } = mpopArgs(args, blocking, command, endArg);
  const attempt = (): Reply | undefined => {
    const key = firstNonEmpty(ctx, keys);
    if (key === undefined) return undefined;
    return [key, pop(ctx, [key, String(count)], end, command) as Reply[]];
  };
  return blocking ? serveOrBlock(ctx, keys, timeout, attempt) : (attempt() ?? null);
}

export const listCommands: Record<string, CommandDefinition> = {
  lpush: { handler: (ctx, args) => push(ctx, args, "left", false) },
  rpush: { handler: (ctx, args) => push(ctx, args, "right", false) },
  lpushx: { handler: (ctx, args) => push(ctx, args, "left", true) },
  rpushx: { handler: (ctx, args) => push(ctx, args, "right", true) },
  lpop: { handler: (ctx, args) => pop(ctx, args, "left", "lpop") },
  rpop: { handler: (ctx, args) => pop(ctx, args, "right", "rpop") },
  llen: { handler: (ctx, [key]) => ctx.ks.getList(key as string)?.length ?? 0 },
  lrange: {
    handler(ctx, [key, start, stop]) {
      const from = intArg(start as string);
      const to = intArg(stop as string);
      const list = ctx.ks.getList(key as string);
      if (!list) return [];
      const r = range(list.length, from, to);
      return r ? list.slice(r[0], r[1] + 1) : [];
    },
  },
  lindex: {
    handler(ctx, [key, index]) {
      const list = ctx.ks.getList(key as string);
      if (!list) return null;
      let i = intArg(index as string);
      if (i < 0) i = list.length + i;
      return list[i] ?? null;
    },
  },
  lset: {
    handler(ctx, [key, index, value]) {
      const list = ctx.ks.getList(key as string);
      if (!list) throw new ReplyError("ERR no such key");
      let i = intArg(index as string);
      if (i < 0) i = list.length + i;
      if (i < 0 || i >= list.length) throw new ReplyError("ERR index out of range");
      list[i] = value as string;
      ctx.ks.put(key as string, list);
      return OK;
    },
  },
  lrem: {
    handler(ctx, [key, countArg, value]) {
      const count = intArg(countArg as string);
      const list = ctx.ks.getList(key as string);
      if (!list) return 0;
      let removed = 0;
      const limit = count === 0 ? Number.POSITIVE_INFINITY : Math.abs(count);
      if (count >= 0) {
        for (let i = 0; i < list.length && removed < limit; ) {
          if (list[i] === value) {
            list.splice(i, 1);
            removed++;
          } else i++;
        }
      } else {
        for (let i = list.length - 1; i >= 0 && removed < limit; i--) {
          if (list[i] === value) {
            list.splice(i, 1);
            removed++;
          }
        }
      }
      if (removed > 0) ctx.ks.put(key as string, list);
      return removed;
    },
  },
  ltrim: {
    handler(ctx, [key, start, stop]) {
      const from = intArg(start as string);
      const to = intArg(stop as string);
      const list = ctx.ks.getList(key as string);
      if (!list) return OK;
      const r = range(list.length, from, to);
      ctx.ks.put(key as string, r ? list.slice(r[0], r[1] + 1) : []);
      return OK;
    },
  },
  linsert: {
    handler(ctx, [key, where, pivot, value]) {
      const after = is(where, "after");
      if (!after && !is(where, "before")) throw syntaxError();
      const list = ctx.ks.getList(key as string);
      if (!list) return 0;
      const at = list.indexOf(pivot as string);
      if (at < 0) return -1;
      list.splice(after ? at + 1 : at, 0, value as string);
      ctx.ks.put(key as string, list);
      return list.length;
    },
  },
  lpos: {
    handler(ctx, args) {
      const [key, element] = args as [string, string];
      let rank = 1;
      let count = -1;
      let maxlen = 0;
      for (let j = 2; j < args.length; j++) {
        const more = args.length - 1 - j > 0;
        if (is(args[j], "rank") && more) {
          const parsed = parseInt64(args[++j] as string);
          if (parsed === undefined || parsed < -(2n ** 63n - 1n))
            throw new ReplyError("ERR value is not an integer or out of range");
          rank = Number(parsed);
          if (rank === 0) {
            throw new ReplyError(
              "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
            );
          }
        } else if (is(args[j], "count") && more) {
          const parsed = parseInt64(args[++j] as string);
          if (parsed === undefined || parsed < 0n) throw new ReplyError("ERR COUNT can't be negative");
          count = Number(parsed);
        } else if (is(args[j], "maxlen") && more) {
          const parsed = parseInt64(args[++j] as string);
          if (parsed === undefined || parsed < 0n) throw new ReplyError("ERR MAXLEN can't be negative");
          maxlen = Number(parsed);
        } else throw syntaxError();
      }
      const fromTail = rank < 0;
      const wanted = Math.abs(rank);
      const list = ctx.ks.getList(key);
      if (!list) return count !== -1 ? [] : null;
      const found: number[] = [];
      let matches = 0;
      for (let index = 0; index < list.length && (maxlen === 0 || index < maxlen); index++) {
        const position = fromTail ? list.length - index - 1 : index;
        if (list[position] !== element) continue;
        matches++;
        if (matches >= wanted) {
          found.push(position);
          if (count === -1) break;
          if (count > 0 && matches - wanted + 1 >= count) break;
        }
      }
      if (count !== -1) return found;
      return found[0] ?? null;
    },
  },
  lmove: {
    handler(ctx, [from, to, whereFrom, whereTo]) {
      const a = endArg(whereFrom);
      const b = endArg(whereTo);
      if (!ctx.ks.getList(from as string)) return null;
      return move(ctx, from as string, to as string, a, b);
    },
  },
  rpoplpush: {
    handler(ctx, [from, to]) {
      if (!ctx.ks.getList(from as string)) return null;
      return move(ctx, from as string, to as string, "right", "left");
    },
  },
  blpop: { handler: (ctx, args) => blockingPop(ctx, args, "left", "BLPOP") },
  brpop: { handler: (ctx, args) => blockingPop(ctx, args, "right", "BRPOP") },
  brpoplpush: {
    handler: (ctx, args) =>
      blockingMove(ctx, args, "right", "left", timeoutArg(args[2] as string, "BRPOPLPUSH")),
  },
  blmove: {
    handler(ctx, args) {
      const a = endArg(args[2]);
      const b = endArg(args[3]);
      return blockingMove(ctx, args, a, b, timeoutArg(args[4] as string, "BLMOVE"));
    },
  },
  lmpop: { handler: (ctx, args) => mpop(ctx, args, false, "lmpop") },
  blmpop: { handler: (ctx, args) => mpop(ctx, args, true, "blmpop") },
};
