// Sets (t_set.c). Sets of up to 512 integers are intsets in Redis 7.0 and come back sorted; so here.
import type { CallContext, CommandDefinition } from "../context.js";
import { parseInt64 } from "../numbers.js";
import { type Reply, ReplyError } from "../resp.js";
import { intsetOrder, isIntset, sample, syntaxError } from "./common.js";
import { collectionScan } from "./keys.js";

function members(ctx: CallContext, key: string): Set<string> {
  return ctx.ks.getSet(key) ?? new Set();
}

/** Looks up every key (missing: undefined), throwing WRONGTYPE for any that is not a set. */
function lookupAll(ctx: CallContext, keys: string[]): Array<Set<string> | undefined> {
  return keys.map((key) => ctx.ks.getSet(key));
}

function intersect(sets: Array<Set<string> | undefined>): string[] {
  if (sets.some((set) => set === undefined)) return [];
  const sorted = [...(sets as Set<string>[])].sort((a, b) => a.size - b.size);
  const [smallest, ...others] = sorted as [Set<string>, ...Set<string>[]];
  return intsetOrder([...smallest]).filter((member) => others.every((set) => set.has(member)));
}

function union(sets: Array<Set<string> | undefined>): string[] {
  const out = new Set<string>();
  for (const set of sets) if (set) for (const member of set) out.add(member);
  return intsetOrder([...out]);
}

function difference(sets: Array<Set<string> | undefined>): string[] {
  const [first, ...others] = sets;
  if (!first) return [];
  return intsetOrder([...first].filter((member) => !others.some((set) => set?.has(member))));
}

function store(ctx: CallContext, destination: string, result: string[]): Reply {
  ctx.ks.delete(destination);
  ctx.ks.replace(destination, new Set(result));
  return result.length;
}

export const setCommands: Record<string, CommandDefinition> = {
  sadd: {
    handler(ctx, [key, ...values]) {
      const set = members(ctx, key as string);
      const before = set.size;
      for (const value of values) set.add(value);
      if (set.size !== before) ctx.ks.put(key as string, set);
      return set.size - before;
    },
  },
  srem: {
    handler(ctx, [key, ...values]) {
      const set = ctx.ks.getSet(key as string);
      if (!set) return 0;
      let removed = 0;
      for (const value of values) if (set.delete(value)) removed++;
      if (removed > 0) ctx.ks.put(key as string, set);
      return removed;
    },
  },
  smembers: {
    handler: (ctx, [key]) => intsetOrder([...members(ctx, key as string)]),
    note: "sets of up to 512 integers come back sorted as in Redis; others in insertion order (Redis: any order)",
  },
  sismember: { handler: (ctx, [key, member]) => (members(ctx, key as string).has(member as string) ? 1 : 0) },
  smismember: {
    handler(ctx, [key, ...values]) {
      const set = members(ctx, key as string);
      return values.map((value) => (set.has(value) ? 1 : 0));
    },
  },
  scard: { handler: (ctx, [key]) => members(ctx, key as string).size },
  sinter: { handler: (ctx, keys) => intersect(lookupAll(ctx, keys)) },
  sunion: { handler: (ctx, keys) => union(lookupAll(ctx, keys)) },
  sdiff: { handler: (ctx, keys) => difference(lookupAll(ctx, keys)) },
  sinterstore: {
    handler: (ctx, [destination, ...keys]) =>
      store(ctx, destination as string, intersect(lookupAll(ctx, keys))),
  },
  sunionstore: {
    handler: (ctx, [destination, ...keys]) => store(ctx, destination as string, union(lookupAll(ctx, keys))),
  },
  sdiffstore: {
    handler: (ctx, [destination, ...keys]) =>
      store(ctx, destination as string, difference(lookupAll(ctx, keys))),
  },
  sintercard: {
    handler(ctx, args) {
      const numkeys = parseInt64(args[0] as string);
      if (numkeys === undefined || numkeys < 1n) throw new ReplyError("ERR numkeys should be greater than 0");
      if (numkeys > BigInt(args.length - 1)) {
        throw new ReplyError("ERR Number of keys can't be greater than number of args");
      }
      const keys = args.slice(1, 1 + Number(numkeys));
      let limit = 0;
      for (let j = 1 + Number(numkeys); j < args.length; j++) {
        if (args[j]?.toLowerCase() === "limit" && j + 1 < args.length) {
          const parsed = parseInt64(args[++j] as string);
          if (parsed === undefined || parsed < 0n) throw new ReplyError("ERR LIMIT can't be negative");
          limit = Number(parsed);
        } else throw syntaxError();
      }
      const count = intersect(lookupAll(ctx, keys)).length;
      return limit > 0 ? Math.min(limit, count) : count;
    },
  },
  smove: {
    handler(ctx, [from, to, member]) {
      if (!ctx.ks.exists(from as string)) return 0;
      const source = ctx.ks.getSet(from as string) as Set<string>;
      const target = ctx.ks.getSet(to as string);
      if (from === to) return source.has(member as string) ? 1 : 0;
      if (!source.delete(member as string)) return 0;
      ctx.ks.put(from as string, source);
      const next = target ?? new Set<string>();
      next.add(member as string);
      ctx.ks.put(to as string, next);
      return 1;
    },
  },
  spop: {
    handler(ctx, args) {
      if (args.length > 2) throw syntaxError();
      const key = args[0] as string;
      if (args.length === 1) {
        const set = ctx.ks.getSet(key);
        if (!set) return null;
        const [picked] = sample([...set], 1) as [string];
        set.delete(picked);
        ctx.ks.put(key, set);
        return picked;
      }
      const count = parseInt64(args[1] as string);
      if (count === undefined || count < 0n)
        throw new ReplyError("ERR value is out of range, must be positive");
      const set = ctx.ks.getSet(key);
      if (!set) return [];
      if (count === 0n) return [];
      if (count >= BigInt(set.size)) {
        ctx.ks.delete(key);
        return intsetOrder([...set]);
      }
      const picked = sample([...set], Number(count));
      for (const member of picked) set.delete(member);
      ctx.ks.put(key, set);
      return picked;
    },
    note: "picks at random, like Redis",
  },
  srandmember: {
    handler(ctx, args) {
      if (args.length > 2) throw syntaxError();
      const key = args[0] as string;
      if (args.length === 1) {
        const set = ctx.ks.getSet(key);
        return set ? (sample([...set], 1)[0] as string) : null;
      }
      const count = parseInt64(args[1] as string);
      if (count === undefined || count < -(2n ** 63n - 1n)) {
        throw new ReplyError("ERR value is not an integer or out of range");
      }
      const set = ctx.ks.getSet(key);
      if (!set || count === 0n) return [];
      const all = [...set];
      if (count < 0n) {
        return Array.from(
          { length: Number(-count) },
          () => all[Math.floor(Math.random() * all.length)] as string,
        );
      }
      if (count >= BigInt(all.length)) return intsetOrder(all);
      return sample(all, Number(count));
    },
    note: "picks at random, like Redis",
  },
  sscan: {
    handler: (ctx, args) =>
      collectionScan(ctx, args, "SSCAN", (key) => {
        const set = ctx.ks.getSet(key);
        if (!set) return undefined;
        return { items: intsetOrder([...set]).map((m) => [m]), oneCall: isIntset(set) };
      }),
  },
};
