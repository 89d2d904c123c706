import { describe, expect, it } from "vitest";
import { isTestSupportError } from "../errors.js";
import { type Arg, globPrefix, type ScopeSettings, scopeCommand, unscopeChannel } from "./scope.js";

const P = "it:svc:01abc:cache:";
const settings: ScopeSettings = { prefix: P, db: 0 };
const scope = (name: string, ...args: Arg[]) => scopeCommand(name, args, settings);
const refused = (name: string, ...args: Arg[]) => {
  try {
    scope(name, ...args);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${name} was not refused`);
};

describe("scopeCommand", () => {
  it("prefixes the keys Redis's key specs name, and only those", () => {
    expect(scope("set", "k", "v", "EX", "10").args).toEqual([`${P}k`, "v", "EX", "10"]);
    expect(scope("mset", "a", "1", "b", "2").args).toEqual([`${P}a`, "1", `${P}b`, "2"]);
    expect(scope("blpop", "a", "b", "5").args).toEqual([`${P}a`, `${P}b`, "5"]);
    expect(scope("zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2").args).toEqual([
      `${P}d`,
      "2",
      `${P}a`,
      `${P}b`,
      "WEIGHTS",
      "1",
      "2",
    ]);
    expect(scope("xread", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0").args).toEqual([
      "COUNT",
      "1",
      "STREAMS",
      `${P}s1`,
      `${P}s2`,
      "0",
      "0",
    ]);
    expect(scope("lmpop", "2", "a", "b", "LEFT").args).toEqual(["2", `${P}a`, `${P}b`, "LEFT"]);
  });

  it("prefixes the keys ioredis's keyPrefix leaves alone: XGROUP, XINFO, OBJECT, MEMORY USAGE, script KEYS", () => {
    expect(scope("xgroup", "CREATE", "s", "g", "$", "MKSTREAM").args).toEqual([
      "CREATE",
      `${P}s`,
      "g",
      "$",
      "MKSTREAM",
    ]);
    expect(scope("xinfo", "STREAM", "s").args).toEqual(["STREAM", `${P}s`]);
    expect(scope("object", "ENCODING", "k").args).toEqual(["ENCODING", `${P}k`]);
    expect(scope("memory", "USAGE", "k").args).toEqual(["USAGE", `${P}k`]);
    expect(scope("eval", "return 1", "2", "a", "b", "arg").args).toEqual([
      "return 1",
      "2",
      `${P}a`,
      `${P}b`,
      "arg",
    ]);
    expect(scope("evalsha", "abc", "1", "a", "arg").args).toEqual(["abc", "1", `${P}a`, "arg"]);
  });

  it("prefixes Buffer keys as Buffers", () => {
    const [key] = scope("get", Buffer.from([0xff, 0x00])).args as [Buffer];
    expect(Buffer.isBuffer(key)).toBe(true);
    expect(key.equals(Buffer.concat([Buffer.from(P), Buffer.from([0xff, 0x00])]))).toBe(true);
  });

  it("prefixes SORT's BY, GET and STORE patterns and keys, except GET #", () => {
    expect(
      scope("sort", "l", "BY", "w_*", "GET", "#", "GET", "d_*->f", "LIMIT", "0", "5", "STORE", "dst").args,
    ).toEqual([
      `${P}l`,
      "BY",
      `${P}w_*`,
      "GET",
      "#",
      "GET",
      `${P}d_*->f`,
      "LIMIT",
      "0",
      "5",
      "STORE",
      `${P}dst`,
    ]);
    expect(scope("sort", "l", "STORE", "dst").written).toContain(`${P}dst`);
  });

  it("lists the keys a command may write, so reset can delete them", () => {
    expect(scope("set", "k", "v").written).toEqual([`${P}k`]);
    expect(scope("get", "k").written).toEqual([]);
    expect(scope("xgroup", "CREATE", "s", "g", "$", "MKSTREAM").written).toEqual([`${P}s`]);
    expect(scope("eval", "return 1", "1", "a").written).toEqual([`${P}a`]);
    expect(scope("eval_ro", "return 1", "1", "a").written).toEqual([]);
    expect(scope("rename", "a", "b").written).toEqual([`${P}a`, `${P}b`]);
  });

  it("scopes KEYS and SCAN patterns to the prefix and strips it from the reply", () => {
    const keys = scope("keys", "user:*");
    expect(keys.args).toEqual([`${P}user:*`]);
    expect(keys.strip?.([`${P}user:1`, `${P}user:2`])).toEqual(["user:1", "user:2"]);
    expect(scope("scan", "0").args).toEqual(["0", "MATCH", `${P}*`]);
    expect(scope("scan", "0", "MATCH", "a*", "TYPE", "list").args).toEqual([
      "0",
      "MATCH",
      `${P}a*`,
      "TYPE",
      "list",
    ]);
    expect(scope("scan", "0").strip?.(["17", [`${P}a`]])).toEqual(["17", ["a"]]);
  });

  it("escapes glob characters of the prefix so a pattern never matches outside it", () => {
    expect(globPrefix("it:a*b?:[x]\\:")).toBe("it:a\\*b\\?:\\[x\\]\\\\:");
  });

  it("strips the prefix from key names in replies: BLPOP, BZPOPMIN, LMPOP, XREAD", () => {
    expect(scope("blpop", "q", "0").strip?.([`${P}q`, "job"])).toEqual(["q", "job"]);
    expect(scope("bzpopmin", "z", "0").strip?.([`${P}z`, "m", "1"])).toEqual(["z", "m", "1"]);
    expect(scope("lmpop", "1", "l", "LEFT").strip?.([`${P}l`, ["a"]])).toEqual(["l", ["a"]]);
    expect(scope("xread", "STREAMS", "s", "0").strip?.([[`${P}s`, [["1-0", ["f", "v"]]]]])).toEqual([
      ["s", [["1-0", ["f", "v"]]]],
    ]);
    expect(scope("blpop", "q", "0").strip?.(null)).toBeNull();
  });

  it("scopes pub/sub channels and patterns, and does not prefix twice on resubscribe", () => {
    expect(scope("publish", "news", "hi").args).toEqual([`${P}news`, "hi"]);
    expect(scope("subscribe", "a", `${P}b`).args).toEqual([`${P}a`, `${P}b`]);
    expect(scope("psubscribe", "news.*").args).toEqual([`${globPrefix(P)}news.*`]);
    expect(scope("pubsub", "CHANNELS").args).toEqual(["CHANNELS", `${globPrefix(P)}*`]);
    expect(scope("pubsub", "NUMSUB", "a").strip?.([`${P}a`, 1])).toEqual(["a", 1]);
    expect(unscopeChannel(`${P}news`, P)).toBe("news");
    expect(unscopeChannel(Buffer.from(`${P}news`), P)).toEqual(Buffer.from("news"));
  });

  it("refuses destructive and server-wide commands with UNSAFE_COMMAND, saying why", () => {
    for (const [name, ...args] of [
      ["flushdb"],
      ["flushall", "ASYNC"],
      ["swapdb", "0", "1"],
      ["move", "k", "1"],
      ["config", "GET", "x"],
      ["shutdown"],
      ["debug", "SLEEP", "0"],
      ["dbsize"],
      ["randomkey"],
      ["script", "FLUSH"],
      ["client", "KILL", "ID", "1"],
      ["monitor"],
    ] as string[][]) {
      const error = refused(name as string, ...args);
      expect(isTestSupportError(error, "UNSAFE_COMMAND"), name).toBe(true);
      expect(error.message).toMatch(/is refused on the environment's client in every mode: it \w+/);
    }
    expect(refused("flushdb").message).toContain("env.reset()");
  });

  it("allows SELECT of the URL's own database and ioredis's own AUTH, and refuses other ones", () => {
    const withAuth = { prefix: P, db: 2, auth: ["user", "secret"] };
    expect(scopeCommand("select", ["2"], withAuth).args).toEqual(["2"]);
    expect(() => scopeCommand("select", ["0"], withAuth)).toThrow(/SELECT is refused/);
    expect(scopeCommand("auth", ["user", "secret"], withAuth).args).toEqual(["user", "secret"]);
    expect(() => scopeCommand("auth", ["other", "pw"], withAuth)).toThrow(/AUTH is refused/);
  });

  it("refuses COPY into another database", () => {
    expect(refused("copy", "a", "b", "DB", "1").message).toContain("COPY ... DB");
    expect(scope("copy", "a", "b", "REPLACE").args).toEqual([`${P}a`, `${P}b`, "REPLACE"]);
  });

  it("refuses a command the table does not know, since its keys could not be scoped", () => {
    const error = refused("nosuchcommand", "x");
    expect(isTestSupportError(error, "UNSAFE_COMMAND")).toBe(true);
    expect(error.message).toContain("NOSUCHCOMMAND is not in the command table of Redis 7.0.15");
    expect(error.message).toContain("redis:commands");
  });
});
