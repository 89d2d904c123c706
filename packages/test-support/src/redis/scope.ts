// What the handed-out client does to every command before it leaves, in every mode: keep its keys, patterns
// and channels inside the environment's prefix, remember the keys it may have written so reset can delete
// exactly those, and refuse commands that would reach outside the environment.
import { TestSupportError } from "../errors.js";
import { COMMAND_TABLE, hasFlag, keyPositions, type ResolvedCommand, resolveCommand } from "./commands.js";

/** An argument as ioredis holds it. */
export type Arg = string | Buffer | number;

/** What scoping made of one command. */
export interface ScopedCommand {
  resolved: ResolvedCommand;
  /** The arguments after the name, with keys, patterns and channels prefixed. */
  args: Arg[];
  /** Prefixed names of keys the command may create or change; reset deletes them. */
  written: string[];
  /** Takes the environment's prefix off key names in the reply, so a suite sees the names it used. */
  strip?: (reply: unknown) => unknown;
}

/** What the environment's connection was opened with; these handshake commands stay allowed. */
export interface ScopeSettings {
  prefix: string;
  /** The database number the URL selects (SELECT of this one is a no-op and allowed). */
  db: number;
  /** username/password the client authenticates with, so ioredis's own AUTH passes. */
  auth?: readonly string[];
}

const RESET_HINT =
  "env.reset() (run before every test by integrationTest) deletes every key this environment wrote";

/** Commands no suite may send on the shared client, in any mode, and why. */
const UNSAFE: Record<string, string> = {
  flushdb: `deletes every key in the database, other environments' and other people's included; ${RESET_HINT}`,
  flushall: `deletes every key in every database of the server; ${RESET_HINT}`,
  swapdb: "swaps whole databases of a shared server; an environment owns only the keys under its prefix",
  move: "moves a key to another database, outside the environment's prefix and out of reset's reach",
  select:
    "switches the connection to another database than the URL's, outside the environment's prefix and out of reset's reach; choose the database in the URL (redis://host:6379/<n>)",
  config:
    "reads or changes server-wide configuration shared with every other client; configure the server itself, not from a suite",
  shutdown: "stops a server other suites use",
  debug: "can crash, block or reload a server other suites use",
  migrate: "moves keys to another server, out of reset's reach",
  monitor: "streams every command of every client of the server, other suites' included",
  sync: "is the replication protocol, not a client command",
  psync: "is the replication protocol, not a client command",
  replconf: "is the replication protocol, not a client command",
  replicaof: "turns a shared server into a replica",
  slaveof: "turns a shared server into a replica",
  failover: "fails a shared server over",
  cluster: "manages a cluster that other suites share",
  module: "loads or unloads server modules for every client",
  save: "blocks a shared server while it writes a snapshot",
  bgsave: "makes a shared server write a snapshot",
  bgrewriteaof: "makes a shared server rewrite its append-only file",
  acl: "reads or changes the server's users and permissions, shared with every client",
  dbsize:
    "counts every key in the database, other environments' included, so it differs between runs; count your own keys (KEYS * is scoped to the environment)",
  randomkey: "may return any key of the database, another environment's included",
  hello: "switches the connection's protocol, which the handed-out ioredis client does not speak",
  reset: "resets the connection's database and authentication behind the client's back",
  auth: "re-authenticates the shared connection as another user; put credentials in the URL",
  pfdebug: "is a debugging command that can corrupt values",
  pfselftest: "is a debugging command that blocks the server",
  "client|kill": "disconnects other clients of a shared server",
  "client|pause": "pauses every client of a shared server",
  "client|unpause": "unpauses every client of a shared server",
  "client|unblock": "unblocks another client's blocking command",
  "client|no-evict": "changes server-wide eviction of this connection",
  "client|reply": "turns replies off, which the client cannot follow",
  "client|tracking": "turns on client-side caching invalidations the handed-out client does not handle",
  "client|caching": "turns on client-side caching invalidations the handed-out client does not handle",
  "latency|reset": "clears server-wide latency data other users read",
  "slowlog|reset": "clears the server-wide slow log other users read",
  "memory|purge": "makes a shared server release memory",
  "script|flush": "empties the script cache of every client of the server",
  "script|kill": "kills whatever script the server runs, another suite's included",
  "function|load": "registers a function library for every client of the server, outside reset's reach",
  "function|delete": "deletes a function library every client of the server shares",
  "function|flush": "deletes every function library of the server",
  "function|restore": "replaces the server's function libraries",
  "function|kill": "kills whatever function the server runs, another suite's included",
  "pubsub|numpat": "counts the pattern subscriptions of every client of the server, other suites' included",
  "restore-asking": "is cluster-internal",
  asking: "is cluster-internal",
};

/** Why `name` ("select", "client|kill") is refused in every mode, or undefined when it is allowed. */
export function unsafeReason(name: string): string | undefined {
  return UNSAFE[name] ?? UNSAFE[name.split("|")[0] as string];
}

/** Every command refused in every mode with its reason, for the generated docs. */
export function unsafeCommands(): ReadonlyArray<[string, string]> {
  return Object.entries(UNSAFE).sort(([a], [b]) => a.localeCompare(b));
}

function text(arg: Arg | undefined): string {
  if (arg === undefined) return "";
  return Buffer.isBuffer(arg) ? arg.toString("latin1") : String(arg);
}

function prefixed(arg: Arg, prefix: string): Arg {
  if (Buffer.isBuffer(arg)) return Buffer.concat([Buffer.from(prefix, "latin1"), arg]);
  return `${prefix}${arg}`;
}

/** The prefix with glob characters escaped, so a pattern after it matches only inside it. */
export function globPrefix(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, "\\$&");
}

function stripOne(value: unknown, prefix: string): unknown {
  if (typeof value === "string") return value.startsWith(prefix) ? value.slice(prefix.length) : value;
  if (Buffer.isBuffer(value)) {
    const head = Buffer.from(prefix, "latin1");
    return value.subarray(0, head.length).equals(head) ? value.subarray(head.length) : value;
  }
  return value;
}

function unsafe(display: string, reason: string): TestSupportError {
  return new TestSupportError(
    "UNSAFE_COMMAND",
    `redis ${display} is refused on the environment's client in every mode: it ${reason}.`,
  );
}

/** Keys, patterns or channels of the command that the key specs do not describe. */
function scopeSpecial(
  name: string,
  args: Arg[],
  prefix: string,
  written: string[],
): ((reply: unknown) => unknown) | undefined {
  const strip = (value: unknown) => stripOne(value, prefix);
  const stripAll = (reply: unknown) => (Array.isArray(reply) ? reply.map(strip) : reply);
  const firstOfPair = (reply: unknown) =>
    Array.isArray(reply) && reply.length > 0 ? [strip(reply[0]), ...reply.slice(1)] : reply;
  const pattern = (arg: Arg) =>
    Buffer.isBuffer(arg) ? prefixed(arg, globPrefix(prefix)) : `${globPrefix(prefix)}${arg}`;
  switch (name) {
    case "keys":
      if (args.length > 0) args[0] = pattern(args[0] as Arg);
      return stripAll;
    case "scan": {
      let matched = false;
      for (let i = 1; i + 1 < args.length; i += 2) {
        if (text(args[i]).toLowerCase() === "match") {
          args[i + 1] = pattern(args[i + 1] as Arg);
          matched = true;
        }
      }
      if (!matched && args.length % 2 === 1) args.push("MATCH", `${globPrefix(prefix)}*`);
      return (reply) => (Array.isArray(reply) ? [reply[0], stripAll(reply[1])] : reply);
    }
    case "subscribe":
    case "unsubscribe":
      for (let i = 0; i < args.length; i++) {
        if (!text(args[i]).startsWith(prefix)) args[i] = prefixed(args[i] as Arg, prefix);
      }
      return undefined;
    case "psubscribe":
    case "punsubscribe":
      for (let i = 0; i < args.length; i++) {
        if (!text(args[i]).startsWith(globPrefix(prefix))) args[i] = pattern(args[i] as Arg);
      }
      return undefined;
    case "publish":
      if (args.length > 0) args[0] = prefixed(args[0] as Arg, prefix);
      return undefined;
    case "pubsub|channels":
    case "pubsub|shardchannels":
      if (args.length > 1) args[1] = pattern(args[1] as Arg);
      else args.push(`${globPrefix(prefix)}*`);
      return stripAll;
    case "pubsub|numsub":
    case "pubsub|shardnumsub":
      for (let i = 1; i < args.length; i++) args[i] = prefixed(args[i] as Arg, prefix);
      return (reply) => (Array.isArray(reply) ? reply.map((v, i) => (i % 2 === 0 ? strip(v) : v)) : reply);
    case "sort":
    case "sort_ro":
      for (let i = 1; i < args.length; i++) {
        const token = text(args[i]).toLowerCase();
        if ((token === "by" || token === "get") && i + 1 < args.length) {
          if (!(token === "get" && text(args[i + 1]) === "#"))
            args[i + 1] = prefixed(args[i + 1] as Arg, prefix);
          i++;
        } else if (token === "limit") {
          i += 2;
        } else if (token === "store" && name === "sort" && i + 1 < args.length) {
          args[i + 1] = prefixed(args[i + 1] as Arg, prefix);
          written.push(text(args[i + 1]));
          i++;
        }
      }
      return undefined;
    case "blpop":
    case "brpop":
    case "bzpopmin":
    case "bzpopmax":
    case "lmpop":
    case "blmpop":
    case "zmpop":
    case "bzmpop":
      return firstOfPair;
    case "xread":
    case "xreadgroup":
      return (reply) => (Array.isArray(reply) ? reply.map((entry) => firstOfPair(entry)) : reply);
    default:
      return undefined;
  }
}

/** Scripts and functions may write any key they are given. */
const WRITES_ITS_KEYS = new Set(["eval", "evalsha", "fcall"]);

/**
 * Scopes one command (argv[0] is its name) to the environment: prefixes its keys, patterns and channels,
 * lists the keys it may write and how to strip the prefix from its reply. Throws UNSAFE_COMMAND for a
 * command that would reach outside the environment, and for one the command table does not know (its keys
 * could not be prefixed).
 */
export function scopeCommand(name: string, args: readonly Arg[], settings: ScopeSettings): ScopedCommand {
  const argv = [name, ...args];
  const resolved = resolveCommand(argv);
  if (!resolved) {
    throw new TestSupportError(
      "UNSAFE_COMMAND",
      `redis ${name.toUpperCase()} is not in the command table of Redis ${COMMAND_TABLE.server} that test-support knows, ` +
        "so it cannot keep the command's keys inside the environment's prefix. Check the spelling; if your server " +
        "has the command, regenerate the table (REDIS_URL=<url> pnpm --filter @org/test-support redis:commands).",
    );
  }
  const out = [...args];
  const lower = resolved.name;
  if (lower === "select" && Number(text(args[0])) === settings.db && /^\d+$/.test(text(args[0]))) {
    return { resolved, args: out, written: [] };
  }
  if (lower === "auth" && settings.auth && args.map(text).join("\0") === settings.auth.join("\0")) {
    return { resolved, args: out, written: [] };
  }
  const reason = unsafeReason(lower);
  if (reason) throw unsafe(resolved.display, reason);
  if (lower === "copy" && args.some((arg) => text(arg).toLowerCase() === "db")) {
    throw unsafe(
      "COPY ... DB",
      "copies into another database, outside the environment's prefix and reset's reach",
    );
  }
  const written: string[] = [];
  const { keys } = keyPositions(resolved, argv);
  const writes = hasFlag(resolved, "write") || WRITES_ITS_KEYS.has(lower);
  for (const { index } of keys) {
    const arg = out[index - 1] as Arg;
    out[index - 1] = prefixed(arg, settings.prefix);
    if (writes) written.push(text(out[index - 1]));
  }
  const strip = scopeSpecial(lower, out, settings.prefix, written);
  return { resolved, args: out, written, ...(strip ? { strip } : {}) };
}

/** Takes the prefix off a channel or pattern name in a pub/sub message event. */
export function unscopeChannel(value: unknown, prefix: string): unknown {
  const escaped = globPrefix(prefix);
  const once = stripOne(value, escaped);
  return once === value ? stripOne(value, prefix) : once;
}
