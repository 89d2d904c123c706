// Connection, pub/sub, transactions and scripting: the commands that need the double's connections and state.
import { type CallContext, type CommandDefinition, PUSHED, Refusal } from "../context.js";
import { globMatch } from "../glob.js";
import { realNow } from "../keyspace.js";
import { sha1 } from "../lua.js";
import { parseInt64 } from "../numbers.js";
import { OK, type Reply, ReplyError, Status } from "../resp.js";

function subscribed(ctx: CallContext): number {
  return ctx.conn.channels.size + ctx.conn.patterns.size;
}

function noTransaction(ctx: CallContext, what: string): void {
  if (ctx.inExec)
    throw new Refusal(`${what} inside MULTI`, "subscribing inside a transaction is not reproduced");
}

function script(ctx: CallContext, args: string[], byDigest: boolean, readOnly: boolean): Reply {
  const numkeys = parseInt64(args[1] as string);
  if (numkeys === undefined) throw new ReplyError("ERR value is not an integer or out of range");
  if (numkeys < 0n) throw new ReplyError("ERR Number of keys can't be negative");
  if (numkeys > BigInt(args.length - 2))
    throw new ReplyError("ERR Number of keys can't be greater than number of args");
  let body = args[0] as string;
  if (byDigest) {
    const found = ctx.server.scripts.get(body.toLowerCase());
    if (found === undefined) throw new ReplyError("NOSCRIPT No matching script. Please use EVAL.");
    body = found;
  }
  const keys = args.slice(2, 2 + Number(numkeys));
  const argv = args.slice(2 + Number(numkeys));
  let reply: Reply;
  try {
    reply = ctx.server.runScript(ctx, body, keys, argv, readOnly);
  } catch (error) {
    if (error instanceof Refusal) {
      const command = `${byDigest ? "EVALSHA" : "EVAL"}${readOnly ? "_RO" : ""}`;
      throw new Refusal(`${command} (${error.what})`, error.why, error.code);
    }
    throw error;
  }
  if (!byDigest) ctx.server.scripts.set(sha1(body), body);
  return reply;
}

export const serverCommands: Record<string, CommandDefinition> = {
  ping: {
    handler(ctx, args) {
      if (args.length > 1) throw new ReplyError("ERR wrong number of arguments for 'ping' command");
      if (subscribed(ctx) > 0) return ["pong", args[0] ?? ""];
      return args.length === 1 ? (args[0] as string) : new Status("PONG");
    },
  },
  echo: { handler: (_ctx, [message]) => message as string },
  time: {
    handler() {
      const micros = BigInt(realNow()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
      return [String(micros / 1_000_000n), String(micros % 1_000_000n)];
    },
  },
  quit: {
    handler(ctx) {
      ctx.conn.push(OK);
      ctx.conn.end();
      return PUSHED;
    },
  },
  select: {
    handler(_ctx, [index]) {
      if (parseInt64(index as string) === undefined)
        throw new ReplyError("ERR value is not an integer or out of range");
      if (index !== "0") throw new Refusal(`SELECT ${index}`, "the double has one database (0)");
      return OK;
    },
  },
  "client|id": { handler: (ctx) => ctx.conn.id },
  "client|getname": { handler: (ctx) => ctx.conn.name },
  "client|setname": {
    handler(ctx, [name]) {
      // Redis allows '!' to '~' only.
      if (/[^!-~]/.test(name as string)) {
        throw new ReplyError("ERR Client names cannot contain spaces, newlines or special characters.");
      }
      ctx.conn.name = name === "" ? null : (name as string);
      return OK;
    },
  },
  multi: {
    handler(ctx) {
      if (ctx.conn.multi) throw new ReplyError("ERR MULTI calls can not be nested");
      ctx.conn.multi = [];
      ctx.conn.multiFailed = false;
      return OK;
    },
  },
  discard: {
    handler(ctx) {
      if (!ctx.conn.multi) throw new ReplyError("ERR DISCARD without MULTI");
      ctx.conn.multi = null;
      ctx.conn.multiFailed = false;
      return OK;
    },
  },
  // EXEC itself is run by the double (it needs to dispatch the queued commands).
  unwatch: { handler: () => OK },
  subscribe: {
    handler(ctx, channels) {
      noTransaction(ctx, "SUBSCRIBE");
      for (const channel of channels) {
        ctx.conn.channels.add(channel);
        ctx.conn.push(["subscribe", channel, subscribed(ctx)]);
      }
      return PUSHED;
    },
  },
  psubscribe: {
    handler(ctx, patterns) {
      noTransaction(ctx, "PSUBSCRIBE");
      for (const pattern of patterns) {
        ctx.conn.patterns.add(pattern);
        ctx.conn.push(["psubscribe", pattern, subscribed(ctx)]);
      }
      return PUSHED;
    },
  },
  unsubscribe: {
    handler(ctx, given) {
      noTransaction(ctx, "UNSUBSCRIBE");
      const channels = given.length > 0 ? given : [...ctx.conn.channels];
      if (channels.length === 0) ctx.conn.push(["unsubscribe", null, subscribed(ctx)]);
      for (const channel of channels) {
        ctx.conn.channels.delete(channel);
        ctx.conn.push(["unsubscribe", channel, subscribed(ctx)]);
      }
      return PUSHED;
    },
  },
  punsubscribe: {
    handler(ctx, given) {
      noTransaction(ctx, "PUNSUBSCRIBE");
      const patterns = given.length > 0 ? given : [...ctx.conn.patterns];
      if (patterns.length === 0) ctx.conn.push(["punsubscribe", null, subscribed(ctx)]);
      for (const pattern of patterns) {
        ctx.conn.patterns.delete(pattern);
        ctx.conn.push(["punsubscribe", pattern, subscribed(ctx)]);
      }
      return PUSHED;
    },
  },
  publish: { handler: (ctx, [channel, message]) => ctx.server.publish(channel as string, message as string) },
  "pubsub|channels": {
    handler(ctx, [pattern]) {
      const active = new Set<string>();
      for (const conn of ctx.server.connections()) for (const channel of conn.channels) active.add(channel);
      return [...active].filter((channel) => pattern === undefined || globMatch(pattern, channel));
    },
  },
  "pubsub|numsub": {
    handler(ctx, channels) {
      const out: Reply[] = [];
      for (const channel of channels) {
        let count = 0;
        for (const conn of ctx.server.connections()) if (conn.channels.has(channel)) count++;
        out.push(channel, count);
      }
      return out;
    },
  },
  eval: { handler: (ctx, args) => script(ctx, args, false, false) },
  evalsha: { handler: (ctx, args) => script(ctx, args, true, false) },
  eval_ro: { handler: (ctx, args) => script(ctx, args, false, true) },
  evalsha_ro: { handler: (ctx, args) => script(ctx, args, true, true) },
  "script|load": {
    handler(ctx, [body]) {
      const digest = sha1(body as string);
      ctx.server.compileScript(body as string);
      ctx.server.scripts.set(digest, body as string);
      return digest;
    },
  },
  "script|exists": {
    handler: (ctx, digests) => digests.map((d) => (ctx.server.scripts.has(d.toLowerCase()) ? 1 : 0)),
  },
};
