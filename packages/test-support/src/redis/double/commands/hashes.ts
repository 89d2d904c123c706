// Hashes (t_hash.c). Small hashes keep insertion order in Redis (listpack), and so does the double.
import type { CallContext, CommandDefinition } from "../context.js";
import type { Hash } from "../keyspace.js";
import { inInt64, int64Arg, intArg, parseInt64 } from "../numbers.js";
import { OK, ReplyError } from "../resp.js";
import { arityError, is, sample, syntaxError } from "./common.js";
import { collectionScan } from "./keys.js";
import { addFloatText } from "./strings.js";

/** True while Redis 7.0 keeps the hash as a listpack (it then scans and orders it like a list). */
export function smallHash(hash: Hash): boolean {
  if (hash.size > 128) return false;
  for (const [field, value] of hash) if (field.length > 64 || value.length > 64) return false;
  return true;
}

function hash(ctx: CallContext, key: string): Hash {
  return ctx.ks.getHash(key) ?? new Map();
}

function setFields(ctx: CallContext, args: string[], command: string): number {
  if (args.length < 3 || args.length % 2 === 0) throw arityError(command);
  const key = args[0] as string;
  const h = hash(ctx, key);
  let added = 0;
  for (let i = 1; i < args.length; i += 2) {
    if (!h.has(args[i] as string)) added++;
    h.set(args[i] as string, args[i + 1] as string);
  }
  ctx.ks.put(key, h);
  return added;
}

export const hashCommands: Record<string, CommandDefinition> = {
  hset: { handler: (ctx, args) => setFields(ctx, args, "hset") },
  hmset: {
    handler(ctx, args) {
      setFields(ctx, args, "hmset");
      return OK;
    },
  },
  hsetnx: {
    handler(ctx, [key, field, value]) {
      const h = hash(ctx, key as string);
      if (h.has(field as string)) return 0;
      h.set(field as string, value as string);
      ctx.ks.put(key as string, h);
      return 1;
    },
  },
  hget: { handler: (ctx, [key, field]) => ctx.ks.getHash(key as string)?.get(field as string) ?? null },
  hmget: {
    handler(ctx, [key, ...fields]) {
      const h = ctx.ks.getHash(key as string);
      return fields.map((field) => h?.get(field) ?? null);
    },
  },
  hgetall: {
    handler: (ctx, [key]) => [...hash(ctx, key as string)].flat(),
    note: "fields in insertion order, as Redis answers for hashes of up to 128 short fields (larger ones: any order)",
  },
  hkeys: { handler: (ctx, [key]) => [...hash(ctx, key as string).keys()] },
  hvals: { handler: (ctx, [key]) => [...hash(ctx, key as string).values()] },
  hlen: { handler: (ctx, [key]) => hash(ctx, key as string).size },
  hexists: { handler: (ctx, [key, field]) => (hash(ctx, key as string).has(field as string) ? 1 : 0) },
  hstrlen: { handler: (ctx, [key, field]) => (hash(ctx, key as string).get(field as string) ?? "").length },
  hdel: {
    handler(ctx, [key, ...fields]) {
      const h = ctx.ks.getHash(key as string);
      if (!h) return 0;
      let removed = 0;
      for (const field of fields) if (h.delete(field)) removed++;
      if (removed > 0) ctx.ks.put(key as string, h);
      return removed;
    },
  },
  hincrby: {
    handler(ctx, [key, field, by]) {
      const increment = int64Arg(by as string);
      const h = hash(ctx, key as string);
      const current = h.get(field as string);
      let value = 0n;
      if (current !== undefined) {
        const parsed = parseInt64(current);
        if (parsed === undefined) throw new ReplyError("ERR hash value is not an integer");
        value = parsed;
      }
      const next = value + increment;
      if (!inInt64(next)) throw new ReplyError("ERR increment or decrement would overflow");
      h.set(field as string, next.toString());
      ctx.ks.put(key as string, h);
      return next;
    },
  },
  hincrbyfloat: {
    handler(ctx, [key, field, by]) {
      // The increment is checked (and NaN/Infinity refused) before the key is looked at.
      addFloatText("0", by as string, "HINCRBYFLOAT", "ERR value is not a valid float");
      if (/^[+-]?inf(inity)?$/i.test(by as string)) throw new ReplyError("ERR value is NaN or Infinity");
      const h = hash(ctx, key as string);
      const next = addFloatText(
        h.get(field as string) ?? "0",
        by as string,
        "HINCRBYFLOAT",
        "ERR hash value is not a float",
      );
      h.set(field as string, next);
      ctx.ks.put(key as string, h);
      return next;
    },
  },
  hrandfield: {
    handler(ctx, args) {
      const h = ctx.ks.getHash(args[0] as string);
      let withValues = false;
      if (args.length > 3 || (args.length === 3 && !is(args[2], "withvalues"))) throw syntaxError();
      if (args.length === 3) withValues = true;
      if (args.length === 1) {
        if (!h) return null;
        return sample([...h.keys()], 1)[0] as string;
      }
      const count = intArg(args[1] as string);
      if (!h) return [];
      const fields = [...h.keys()];
      const picked =
        count >= fields.length
          ? fields
          : count >= 0
            ? sample(fields, count)
            : Array.from(
                { length: -count },
                () => fields[Math.floor(Math.random() * fields.length)] as string,
              );
      return withValues ? picked.flatMap((f) => [f, h.get(f) as string]) : picked;
    },
    note: "picks at random, like Redis; which fields it picks differs from run to run in both",
  },
  hscan: {
    handler: (ctx, args) =>
      collectionScan(ctx, args, "HSCAN", (key) => {
        const h = ctx.ks.getHash(key);
        if (!h) return undefined;
        return { items: [...h].map(([f, v]) => [f, v]), oneCall: smallHash(h) };
      }),
  },
};
