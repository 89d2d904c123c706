// Sorted sets (t_zset.c): ordered by score, then by member byte by byte; scores printed with %.17g as Redis 7.0.
import { type Blocked, type CallContext, type CommandDefinition, Refusal } from "../context.js";
import type { ZSet } from "../keyspace.js";
import { formatReplyDouble, intArg, parseInt64, parseRangeDouble, UnsupportedNumber } from "../numbers.js";
import { type Reply, ReplyError } from "../resp.js";
import {
  doubleArg,
  is,
  mpopArgs,
  positiveCount,
  sample,
  serveOrBlock,
  syntaxError,
  timeoutArg,
} from "./common.js";
import { collectionScan } from "./keys.js";

type Entry = [member: string, score: number];

function compare(a: Entry, b: Entry): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function sorted(zset: ZSet): Entry[] {
  return [...zset].sort(compare);
}

function withScores(entries: Entry[], scores: boolean): Reply[] {
  return scores ? entries.flatMap(([m, s]) => [m, formatReplyDouble(s)]) : entries.map(([m]) => m);
}

/** True while Redis 7.0 keeps the sorted set as a listpack (ZSCAN then answers in one call). */
function smallZSet(zset: ZSet): boolean {
  if (zset.size > 128) return false;
  for (const member of zset.keys()) if (member.length > 64) return false;
  return true;
}

interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

function parseScoreBound(text: string, what: string): { value: number; exclusive: boolean } {
  const exclusive = text.startsWith("(");
  try {
    const value = parseRangeDouble(exclusive ? text.slice(1) : text);
    if (value === undefined) throw new ReplyError("ERR min or max is not a float");
    return { value, exclusive };
  } catch (error) {
    if (error instanceof UnsupportedNumber)
      throw new Refusal(
        `${what} with the bound ${JSON.stringify(text)}`,
        "hexadecimal floats are not parsed",
      );
    throw error;
  }
}

function scoreRange(minText: string, maxText: string, what: string): ScoreRange {
  const min = parseScoreBound(minText, what);
  const max = parseScoreBound(maxText, what);
  return { min: min.value, minex: min.exclusive, max: max.value, maxex: max.exclusive };
}

function inScoreRange(score: number, r: ScoreRange): boolean {
  const aboveMin = r.minex ? score > r.min : score >= r.min;
  const belowMax = r.maxex ? score < r.max : score <= r.max;
  return aboveMin && belowMax;
}

type LexBound = { kind: "min" } | { kind: "max" } | { kind: "value"; value: string; exclusive: boolean };

function lexBound(text: string): LexBound {
  if (text === "+") return { kind: "max" };
  if (text === "-") return { kind: "min" };
  if (text.startsWith("(")) return { kind: "value", value: text.slice(1), exclusive: true };
  if (text.startsWith("[")) return { kind: "value", value: text.slice(1), exclusive: false };
  throw new ReplyError("ERR min or max not valid string range item");
}

function lexRange(minText: string, maxText: string): [LexBound, LexBound] {
  return [lexBound(minText), lexBound(maxText)];
}

function aboveLexMin(member: string, bound: LexBound): boolean {
  if (bound.kind === "min") return true;
  if (bound.kind === "max") return false;
  return bound.exclusive ? member > bound.value : member >= bound.value;
}

function belowLexMax(member: string, bound: LexBound): boolean {
  if (bound.kind === "max") return true;
  if (bound.kind === "min") return false;
  return bound.exclusive ? member < bound.value : member <= bound.value;
}

/** Sanitized rank range [start, end] over `length` entries, or undefined when empty. */
function rankRange(length: number, startArg: number, endArg: number): [number, number] | undefined {
  let start = startArg;
  let end = endArg;
  if (start < 0) start = length + start;
  if (end < 0) end = length + end;
  if (start < 0) start = 0;
  if (start > end || start >= length) return undefined;
  if (end >= length) end = length - 1;
  return [start, end];
}

type RangeType = "auto" | "rank" | "score" | "lex";
type Direction = "auto" | "forward" | "reverse";

/** zrangeGenericCommand: ZRANGE, ZRANGESTORE and the legacy range commands. */
function zrange(
  ctx: CallContext,
  args: string[],
  options: { store: boolean; type: RangeType; direction: Direction; what: string },
): Reply {
  const argcStart = options.store ? 1 : 0;
  const key = args[argcStart] as string;
  let minIndex = argcStart + 1;
  let maxIndex = argcStart + 2;
  let type = options.type;
  let direction = options.direction;
  let scores = false;
  let offset = 0;
  let limit = -1;
  let limitGiven = false;
  for (let j = argcStart + 3; j < args.length; j++) {
    const left = args.length - j - 1;
    if (!options.store && is(args[j], "withscores")) scores = true;
    else if (is(args[j], "limit") && left >= 2) {
      offset = intArg(args[j + 1] as string);
      limit = intArg(args[j + 2] as string);
      limitGiven = true;
      j += 2;
    } else if (direction === "auto" && is(args[j], "rev")) direction = "reverse";
    else if (type === "auto" && is(args[j], "bylex")) type = "lex";
    else if (type === "auto" && is(args[j], "byscore")) type = "score";
    else throw syntaxError();
  }
  if (direction === "auto") direction = "forward";
  if (type === "auto") type = "rank";
  if (limitGiven && type === "rank") {
    throw new ReplyError(
      "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
  }
  if (scores && type === "lex") {
    throw new ReplyError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  if (direction === "reverse" && (type === "score" || type === "lex"))
    [minIndex, maxIndex] = [maxIndex, minIndex];
  const minText = args[minIndex] as string;
  const maxText = args[maxIndex] as string;
  let select: (all: Entry[]) => Entry[];
  if (type === "rank") {
    const start = intArg(minText);
    const end = intArg(maxText);
    select = (all) => {
      const r = rankRange(all.length, start, end);
      if (!r) return [];
      if (direction === "forward") return all.slice(r[0], r[1] + 1);
      return [...all].reverse().slice(r[0], r[1] + 1);
    };
  } else {
    const matches =
      type === "score"
        ? (
            (range) => (e: Entry) =>
              inScoreRange(e[1], range)
          )(scoreRange(minText, maxText, options.what))
        : (
            ([lo, hi]) =>
            (e: Entry) =>
              aboveLexMin(e[0], lo) && belowLexMax(e[0], hi)
          )(lexRange(minText, maxText));
    select = (all) => {
      if (offset > 0 && offset >= all.length) return [];
      const ordered = direction === "forward" ? all : [...all].reverse();
      const inRange = ordered.filter(matches);
      if (offset < 0) return [];
      const rest = inRange.slice(offset);
      return limit < 0 ? rest : rest.slice(0, limit);
    };
  }
  const zset = ctx.ks.getZSet(key);
  const result = zset ? select(sorted(zset)) : [];
  if (options.store) {
    const destination = args[0] as string;
    ctx.ks.delete(destination);
    if (result.length > 0) ctx.ks.replace(destination, new Map(result), true);
    return result.length;
  }
  return withScores(result, scores);
}

/** zaddGenericCommand (ZADD and ZINCRBY). */
function zadd(ctx: CallContext, args: string[], incrCommand: boolean): Reply {
  const key = args[0] as string;
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = incrCommand;
  let index = 1;
  // ZINCRBY goes through the same option loop in Redis (so "ZINCRBY k nx m" is a syntax error there too).
  for (; index < args.length; index++) {
    const opt = args[index];
    if (is(opt, "nx")) nx = true;
    else if (is(opt, "xx")) xx = true;
    else if (is(opt, "ch")) ch = true;
    else if (is(opt, "incr")) incr = true;
    else if (is(opt, "gt")) gt = true;
    else if (is(opt, "lt")) lt = true;
    else break;
  }
  const elements = args.length - index;
  if (elements % 2 !== 0 || elements === 0) throw syntaxError();
  if (xx && nx) throw new ReplyError("ERR XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    throw new ReplyError("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && elements > 2) throw new ReplyError("ERR INCR option supports a single increment-element pair");
  const pairs: Entry[] = [];
  for (let j = index; j < args.length; j += 2) {
    pairs.push([args[j + 1] as string, doubleArg(args[j] as string, incrCommand ? "ZINCRBY" : "ZADD")]);
  }
  const existing = ctx.ks.getZSet(key);
  if (!existing && xx) return incr ? null : 0;
  const zset = existing ?? new Map<string, number>();
  let added = 0;
  let updated = 0;
  let processed = 0;
  let lastScore = 0;
  for (const [member, given] of pairs) {
    let score = given;
    const current = zset.get(member);
    if (current !== undefined) {
      if (nx) continue;
      if (incr) {
        score += current;
        if (Number.isNaN(score)) throw new ReplyError("ERR resulting score is not a number (NaN)");
      }
      if ((lt && score >= current) || (gt && score <= current)) continue;
      if (score !== current) {
        zset.set(member, score);
        updated++;
      }
      processed++;
      lastScore = score;
    } else if (!xx) {
      zset.set(member, score);
      added++;
      processed++;
      lastScore = score;
    }
  }
  ctx.ks.putZSet(key, zset);
  if (incr) return processed ? formatReplyDouble(lastScore) : null;
  return ch ? added + updated : added;
}

function pop(ctx: CallContext, key: string, count: number, max: boolean): Entry[] {
  const zset = ctx.ks.getZSet(key) as ZSet;
  const all = sorted(zset);
  const picked = (max ? all.reverse() : all).slice(0, count);
  for (const [member] of picked) zset.delete(member);
  ctx.ks.putZSet(key, zset);
  return picked;
}

/** The first of `keys` holding a sorted set; WRONGTYPE stops the search. */
function firstZSet(ctx: CallContext, keys: string[]): string | undefined {
  for (const key of keys) if (ctx.ks.getZSet(key)) return key;
  return undefined;
}

function zpop(ctx: CallContext, args: string[], max: boolean): Reply {
  if (args.length > 2) throw syntaxError();
  const count = args.length === 2 ? positiveCount(args[1] as string) : -1;
  if (count === 0) return [];
  const key = firstZSet(ctx, [args[0] as string]);
  if (key === undefined) return [];
  return withScores(pop(ctx, key, count === -1 ? 1 : count, max), true);
}

function bzpop(ctx: CallContext, args: string[], max: boolean, what: string): Reply | Blocked {
  const timeout = timeoutArg(args[args.length - 1] as string, what);
  const keys = args.slice(0, -1);
  const attempt = (): Reply | undefined => {
    const key = firstZSet(ctx, keys);
    if (key === undefined) return undefined;
    return [key, ...withScores(pop(ctx, key, 1, max), true)];
  };
  return serveOrBlock(ctx, keys, timeout, attempt);
}

/** MIN or MAX of ZMPOP/BZMPOP: true for MAX. */
function maxArg(text: string | undefined): boolean {
  if (is(text, "min")) return false;
  if (is(text, "max")) return true;
  throw syntaxError();
}

function zmpop(ctx: CallContext, args: string[], blocking: boolean, what: string): Reply | Blocked {
  const { timeout, keys, where: max, count } = mpopArgs(args, blocking, what, maxArg);
  const attempt = (): Reply | undefined => {
    const key = firstZSet(ctx, keys);
    if (key === undefined) return undefined;
    const popped = pop(ctx, key, count, max);
    return [key, popped.map(([m, s]) => [m, formatReplyDouble(s)])];
  };
  return blocking ? serveOrBlock(ctx, keys, timeout, attempt) : (attempt() ?? null);
}

/** ZUNION/ZINTER/ZDIFF and their STORE forms, and ZINTERCARD. */
function combine(
  ctx: CallContext,
  args: string[],
  op: "union" | "inter" | "diff",
  options: { store: boolean; cardinality?: boolean; name: string },
): Reply {
  const numkeysIndex = options.store ? 1 : 0;
  const setnum = intArg(args[numkeysIndex] as string);
  if (setnum < 1) {
    if (options.cardinality) throw new ReplyError("ERR numkeys should be greater than 0");
    throw new ReplyError(`ERR at least 1 input key is needed for '${options.name}' command`);
  }
  if (setnum > args.length - (numkeysIndex + 1)) {
    if (options.cardinality) throw new ReplyError("ERR Number of keys can't be greater than number of args");
    throw syntaxError();
  }
  const keys = args.slice(numkeysIndex + 1, numkeysIndex + 1 + setnum);
  const sources: Array<Map<string, number> | undefined> = keys.map((key) => {
    const type = ctx.ks.type(key);
    if (type === undefined) return undefined;
    if (type === "zset") return ctx.ks.getZSet(key);
    if (type === "set") return new Map([...(ctx.ks.getSet(key) as Set<string>)].map((m) => [m, 1]));
    throw new ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value");
  });
  const weights = keys.map(() => 1);
  let aggregate: "sum" | "min" | "max" = "sum";
  let scores = false;
  let limit = 0;
  let j = numkeysIndex + 1 + setnum;
  while (j < args.length) {
    const remaining = args.length - j;
    if (op !== "diff" && !options.cardinality && remaining >= setnum + 1 && is(args[j], "weights")) {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        weights[i] = doubleArg(
          args[j] as string,
          options.name.toUpperCase(),
          "ERR weight value is not a float",
        );
      }
    } else if (op !== "diff" && !options.cardinality && remaining >= 2 && is(args[j], "aggregate")) {
      const value = args[j + 1];
      if (is(value, "sum")) aggregate = "sum";
      else if (is(value, "min")) aggregate = "min";
      else if (is(value, "max")) aggregate = "max";
      else throw syntaxError();
      j += 2;
    } else if (!options.store && !options.cardinality && is(args[j], "withscores")) {
      scores = true;
      j++;
    } else if (options.cardinality && remaining >= 2 && is(args[j], "limit")) {
      const parsed = parseInt64(args[j + 1] as string);
      if (parsed === undefined || parsed < 0n) throw new ReplyError("ERR LIMIT can't be negative");
      limit = Number(parsed);
      j += 2;
    } else throw syntaxError();
  }
  const weighted = (score: number, weight: number) => {
    const value = score * weight;
    return Number.isNaN(value) ? 0 : value;
  };
  const fold = (a: number, b: number) => {
    if (aggregate === "min") return Math.min(a, b);
    if (aggregate === "max") return Math.max(a, b);
    const sum = a + b;
    return Number.isNaN(sum) ? 0 : sum;
  };
  const result = new Map<string, number>();
  if (op === "union") {
    sources.forEach((source, i) => {
      if (!source) return;
      for (const [member, score] of source) {
        const value = weighted(score, weights[i] as number);
        const current = result.get(member);
        result.set(member, current === undefined ? value : fold(current, value));
      }
    });
  } else if (op === "inter") {
    if (sources.every((s) => s !== undefined && s.size > 0)) {
      const order = sources.map((s, i) => ({ s: s as Map<string, number>, i }));
      if (order.length > 2 && aggregate === "sum") {
        const sizes = order.map((o) => o.s.size);
        if (new Set(sizes).size !== sizes.length) {
          throw new Refusal(
            "ZINTER/ZINTERSTORE summing more than two sorted sets of equal size",
            "Redis adds the scores in an order its unstable sort picks, and floating-point sums depend on that order",
          );
        }
      }
      order.sort((a, b) => a.s.size - b.s.size);
      const [first, ...others] = order as [
        { s: Map<string, number>; i: number },
        ...{ s: Map<string, number>; i: number }[],
      ];
      for (const [member, score] of first.s) {
        let value = weighted(score, weights[first.i] as number);
        let all = true;
        for (const other of others) {
          const s = other.s.get(member);
          if (s === undefined) {
            all = false;
            break;
          }
          value = fold(value, weighted(s, weights[other.i] as number));
        }
        if (all) result.set(member, value);
      }
    }
  } else {
    const [first, ...others] = sources;
    if (first)
      for (const [member, score] of first) if (!others.some((o) => o?.has(member))) result.set(member, score);
  }
  if (options.cardinality) return limit > 0 ? Math.min(limit, result.size) : result.size;
  if (options.store) {
    const destination = args[0] as string;
    ctx.ks.delete(destination);
    if (result.size > 0) ctx.ks.replace(destination, result, true);
    return result.size;
  }
  return withScores(sorted(result), scores);
}

export const zsetCommands: Record<string, CommandDefinition> = {
  zadd: { handler: (ctx, args) => zadd(ctx, args, false) },
  zincrby: {
    handler: (ctx, [key, by, member]) => zadd(ctx, [key as string, by as string, member as string], true),
  },
  zscore: {
    handler(ctx, [key, member]) {
      const score = ctx.ks.getZSet(key as string)?.get(member as string);
      return score === undefined ? null : formatReplyDouble(score);
    },
  },
  zmscore: {
    handler(ctx, [key, ...members]) {
      const zset = ctx.ks.getZSet(key as string);
      return members.map((m) => {
        const score = zset?.get(m);
        return score === undefined ? null : formatReplyDouble(score);
      });
    },
  },
  zcard: { handler: (ctx, [key]) => ctx.ks.getZSet(key as string)?.size ?? 0 },
  zcount: {
    handler(ctx, [key, min, max]) {
      const range = scoreRange(min as string, max as string, "ZCOUNT");
      const zset = ctx.ks.getZSet(key as string);
      if (!zset) return 0;
      return [...zset.values()].filter((score) => inScoreRange(score, range)).length;
    },
  },
  zlexcount: {
    handler(ctx, [key, min, max]) {
      const [lo, hi] = lexRange(min as string, max as string);
      const zset = ctx.ks.getZSet(key as string);
      if (!zset) return 0;
      return sorted(zset).filter(([m]) => aboveLexMin(m, lo) && belowLexMax(m, hi)).length;
    },
  },
  zrank: {
    handler(ctx, [key, member]) {
      const zset = ctx.ks.getZSet(key as string);
      if (!zset?.has(member as string)) return null;
      return sorted(zset).findIndex(([m]) => m === member);
    },
  },
  zrevrank: {
    handler(ctx, [key, member]) {
      const zset = ctx.ks.getZSet(key as string);
      if (!zset?.has(member as string)) return null;
      return zset.size - 1 - sorted(zset).findIndex(([m]) => m === member);
    },
  },
  zrem: {
    handler(ctx, [key, ...members]) {
      const zset = ctx.ks.getZSet(key as string);
      if (!zset) return 0;
      let removed = 0;
      for (const m of members) if (zset.delete(m)) removed++;
      if (removed > 0) ctx.ks.putZSet(key as string, zset);
      return removed;
    },
  },
  zremrangebyrank: {
    handler(ctx, [key, start, stop]) {
      const from = intArg(start as string);
      const to = intArg(stop as string);
      const zset = ctx.ks.getZSet(key as string);
      if (!zset) return 0;
      const all = sorted(zset);
      const r = rankRange(all.length, from, to);
      if (!r) return 0;
      for (const [m] of all.slice(r[0], r[1] + 1)) zset.delete(m);
      ctx.ks.putZSet(key as string, zset);
      return r[1] - r[0] + 1;
    },
  },
  zremrangebyscore: {
    handler(ctx, [key, min, max]) {
      const range = scoreRange(min as string, max as string, "ZREMRANGEBYSCORE");
      const zset = ctx.ks.getZSet(key as string);
      if (!zset) return 0;
      let removed = 0;
      for (const [m, s] of [...zset]) {
        if (inScoreRange(s, range)) {
          zset.delete(m);
          removed++;
        }
      }
      if (removed > 0) ctx.ks.putZSet(key as string, zset);
      return removed;
    },
  },
  zremrangebylex: {
    handler(ctx, [key, min, max]) {
      const [lo, hi] = lexRange(min as string, max as string);
      const zset = ctx.ks.getZSet(key as string);
      if (!zset) return 0;
      let removed = 0;
      for (const m of [...zset.keys()]) {
        if (aboveLexMin(m, lo) && belowLexMax(m, hi)) {
          zset.delete(m);
          removed++;
        }
      }
      if (removed > 0) ctx.ks.putZSet(key as string, zset);
      return removed;
    },
  },
  zrange: {
    handler: (ctx, args) =>
      zrange(ctx, args, { store: false, type: "auto", direction: "auto", what: "ZRANGE" }),
  },
  zrangestore: {
    handler: (ctx, args) =>
      zrange(ctx, args, { store: true, type: "auto", direction: "auto", what: "ZRANGESTORE" }),
  },
  zrevrange: {
    handler: (ctx, args) =>
      zrange(ctx, args, { store: false, type: "rank", direction: "reverse", what: "ZREVRANGE" }),
  },
  zrangebyscore: {
    handler: (ctx, args) =>
      zrange(ctx, args, { store: false, type: "score", direction: "forward", what: "ZRANGEBYSCORE" }),
  },
  zrevrangebyscore: {
    handler: (ctx, args) =>
      zrange(ctx, args, { store: false, type: "score", direction: "reverse", what: "ZREVRANGEBYSCORE" }),
  },
  zrangebylex: {
    handler: (ctx, args) =>
      zrange(ctx, args, { store: false, type: "lex", direction: "forward", what: "ZRANGEBYLEX" }),
  },
  zrevrangebylex: {
    handler: (ctx, args) =>
      zrange(ctx, args, { store: false, type: "lex", direction: "reverse", what: "ZREVRANGEBYLEX" }),
  },
  zpopmin: { handler: (ctx, args) => zpop(ctx, args, false) },
  zpopmax: { handler: (ctx, args) => zpop(ctx, args, true) },
  bzpopmin: { handler: (ctx, args) => bzpop(ctx, args, false, "BZPOPMIN") },
  bzpopmax: { handler: (ctx, args) => bzpop(ctx, args, true, "BZPOPMAX") },
  zmpop: { handler: (ctx, args) => zmpop(ctx, args, false, "ZMPOP") },
  bzmpop: { handler: (ctx, args) => zmpop(ctx, args, true, "BZMPOP") },
  zunion: { handler: (ctx, args) => combine(ctx, args, "union", { store: false, name: "zunion" }) },
  zinter: { handler: (ctx, args) => combine(ctx, args, "inter", { store: false, name: "zinter" }) },
  zdiff: { handler: (ctx, args) => combine(ctx, args, "diff", { store: false, name: "zdiff" }) },
  zunionstore: { handler: (ctx, args) => combine(ctx, args, "union", { store: true, name: "zunionstore" }) },
  zinterstore: {
    handler: (ctx, args) => combine(ctx, args, "inter", { store: true, name: "zinterstore" }),
    refuses: [
      [
        "summing more than two inputs of equal size",
        "Redis's unstable sort decides the order of a floating-point sum",
      ],
    ],
  },
  zdiffstore: { handler: (ctx, args) => combine(ctx, args, "diff", { store: true, name: "zdiffstore" }) },
  zintercard: {
    handler: (ctx, args) =>
      combine(ctx, args, "inter", { store: false, cardinality: true, name: "zintercard" }),
  },
  zrandmember: {
    handler(ctx, args) {
      const zset = ctx.ks.getZSet(args[0] as string);
      if (args.length > 3 || (args.length === 3 && !is(args[2], "withscores"))) throw syntaxError();
      if (args.length === 1) return zset ? (sample([...zset.keys()], 1)[0] as string) : null;
      const count = intArg(args[1] as string);
      if (!zset) return [];
      const all = sorted(zset);
      const picked =
        count >= all.length
          ? all
          : count >= 0
            ? sample(all, count)
            : Array.from({ length: -count }, () => all[Math.floor(Math.random() * all.length)] as Entry);
      return withScores(picked, args.length === 3);
    },
    note: "picks at random, like Redis",
  },
  zscan: {
    handler: (ctx, args) =>
      collectionScan(ctx, args, "ZSCAN", (key) => {
        const zset = ctx.ks.getZSet(key);
        if (!zset) return undefined;
        return { items: sorted(zset).map(([m, s]) => [m, formatReplyDouble(s)]), oneCall: smallZSet(zset) };
      }),
  },
};
