// Lua scripting for the double. Redis 7.0 runs Lua 5.1; the only Lua for JS is fengari (Lua 5.3, 32-bit
// integers), so the engine is made to behave like Redis's Lua 5.1 where scripts can tell: every number is
// a double (numerals and string conversions yield floats), numbers print with %.14g, string.format follows
// C and Lua 5.1, 5.1's library names are present and 5.3's absent, and Redis's `redis` API, protected
// globals and reply conversions are reproduced. What it cannot reproduce (5.3-only syntax, the cjson/bit/
// struct/cmsgpack libraries, NaN's printed sign, tables raised without an err field) is refused.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { type CallContext, Refusal } from "./context.js";
import { formatG } from "./numbers.js";
import {
  type Conversion,
  type FormatError,
  FormatUnsupported,
  formatFloat,
  formatInteger,
  formatQuoted,
  formatString,
  scanFormat,
} from "./printf.js";
import { type Reply, ReplyError, Status } from "./resp.js";

// biome-ignore lint/suspicious/noExplicitAny: fengari has no type declarations; this module is its only user.
type Any = any;
const require = createRequire(import.meta.url);
const fengari: Any = require("fengari");
const lobject: Any = require("fengari/src/lobject.js");
const lstring: Any = require("fengari/src/lstring.js");
const { lua, lauxlib, lualib } = fengari;

type LuaState = Any;

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "latin1"));
const text = (value: Uint8Array): string => Buffer.from(value).toString("latin1");

/** sha1 hex of a script body, as SCRIPT LOAD and EVALSHA name it. */
export function sha1(body: string): string {
  return createHash("sha1").update(Buffer.from(body, "latin1")).digest("hex");
}

/** How Lua 5.1 prints a number (LUA_NUMBER_FMT "%.14g"). */
function luaNumberText(value: number): string {
  if (Number.isNaN(value)) {
    throw new Refusal(
      "a Lua script printing NaN",
      "C prints nan or -nan by the sign bit, which the double cannot see",
    );
  }
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  return formatG(value, 14);
}

const originalToString = lobject.luaO_tostring;
const originalStr2Num = lobject.luaO_str2num;

/** Lua 5.1 numbers inside fengari, only while a script of the double runs. */
function withLua51Numbers<T>(run: () => T): T {
  lobject.luaO_tostring = (L: LuaState, obj: Any) => {
    obj.setsvalue(lstring.luaS_bless(L, bytes(luaNumberText(Number(obj.value)))));
  };
  lobject.luaO_str2num = (s: Uint8Array, obj: Any) => {
    const size = originalStr2Num(s, obj);
    if (size !== 0 && obj.ttisinteger()) obj.setfltvalue(Number(obj.value));
    return size;
  };
  try {
    return run();
  } finally {
    lobject.luaO_tostring = originalToString;
    lobject.luaO_str2num = originalStr2Num;
  }
}

/** Finds Lua 5.3-only syntax (// and the bitwise operators), which Redis's Lua 5.1 does not compile. */
export function lua53Syntax(source: string): string | undefined {
  let i = 0;
  const longBracket = (at: number): number => {
    const match = /^\[(=*)\[/.exec(source.slice(at));
    if (!match) return -1;
    const close = `]${match[1]}]`;
    const end = source.indexOf(close, at + match[0].length);
    return end < 0 ? source.length : end + close.length;
  };
  while (i < source.length) {
    const c = source[i] as string;
    if (c === "-" && source[i + 1] === "-") {
      const end = source[i + 2] === "[" ? longBracket(i + 2) : -1;
      if (end >= 0) i = end;
      else {
        const nl = source.indexOf("\n", i);
        i = nl < 0 ? source.length : nl + 1;
      }
    } else if (c === '"' || c === "'") {
      i++;
      while (i < source.length && source[i] !== c) i += source[i] === "\\" ? 2 : 1;
      i++;
    } else if (c === "[" && (source[i + 1] === "[" || source[i + 1] === "=")) {
      const end = longBracket(i);
      i = end >= 0 ? end : i + 1;
    } else {
      const two = source.slice(i, i + 2);
      if (two === "//" || two === "<<" || two === ">>") return two;
      if (c === "&" || c === "|") return c;
      if (c === "~" && source[i + 1] !== "=") return c;
      i++;
    }
  }
  return undefined;
}

// The 5.1 environment, built once per Lua state on top of fengari's base, table, string, math and coroutine.
const PRELUDE = `
local floor, ceil, fmod, log, tonumber0, load0, pcall0, error0 = math.floor, math.ceil, math.fmod, math.log, tonumber, load, pcall, error
local pack0, unpack0 = table.pack, table.unpack
unpack = unpack0
table.unpack, table.pack, table.move = nil, nil, nil
table.getn = function(t) return #t end
table.setn = function() error0("'setn' is obsolete", 2) end
table.maxn = function(t)
  local m = 0
  for k in pairs(t) do if type(k) == "number" and k > m then m = k end end
  return m
end
table.foreach = function(t, f) for k, v in pairs(t) do local r = f(k, v) if r ~= nil then return r end end end
table.foreachi = function(t, f) for i = 1, #t do local r = f(i, t[i]) if r ~= nil then return r end end end
math.floor = function(x) return floor(x) + 0.0 end
math.ceil = function(x) return ceil(x) + 0.0 end
math.pow = function(a, b) return a ^ b end
math.log10 = function(x) return log(x, 10) end
math.log = function(x) return log(x) end
math.mod = fmod
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x) local a, b = math.exp(x), math.exp(-x) return (a - b) / (a + b) end
math.tointeger, math.type, math.ult, math.maxinteger, math.mininteger = nil, nil, nil, nil, nil
string.gfind = string.gmatch
string.pack, string.unpack, string.packsize = nil, nil, nil
tonumber = function(v, base)
  local n = tonumber0(v, base)
  if n then return n + 0.0 end
  return n
end
loadstring = function(s, name) return load0(s, name) end
load = function(f, name)
  if type(f) ~= "function" then error0("bad argument #1 to 'load' (function expected, got " .. type(f) .. ")", 2) end
  return load0(f, name)
end
gcinfo = function() return collectgarbage("count") end
rawlen, utf8, require, package, os, io, debug, print, dofile, loadfile = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
pcall = function(f, ...)
  local result = pack0(pcall0(f, ...))
  if not result[1] and type(result[2]) == "table" and type(result[2].err) == "string" then
    result[2] = result[2].err
  end
  return unpack0(result, 1, result.n)
end
`;

interface ScriptRun {
  ctx: CallContext;
  refusal: Refusal | undefined;
}

/** One Lua interpreter of a double, with Redis's script cache. */
export class LuaEngine {
  private readonly L: LuaState;
  private run: ScriptRun | undefined;
  private rand = (0n << 16n) | 0x330en;

  constructor(
    /** Runs one command for redis.call; throws ReplyError or Refusal. */
    private readonly call: (ctx: CallContext, argv: string[]) => Reply,
  ) {
    this.L = withLua51Numbers(() => this.createState());
  }

  private createState(): LuaState {
    const L = lauxlib.luaL_newstate();
    // A JS exception inside the VM (a refusal raised while printing a number) becomes a Lua error.
    lua.lua_atnativeerror(L, (state: LuaState) => {
      const error = lua.lua_touserdata(state, 1);
      if (error instanceof Refusal && this.run && !this.run.refusal) this.run.refusal = error;
      lua.lua_pushstring(state, bytes(error instanceof Error ? error.message : String(error)));
      return 1;
    });
    for (const [name, open] of [
      ["_G", lualib.luaopen_base],
      ["table", lualib.luaopen_table],
      ["string", lualib.luaopen_string],
      ["math", lualib.luaopen_math],
      ["coroutine", lualib.luaopen_coroutine],
    ] as const) {
      lauxlib.luaL_requiref(L, fengari.to_luastring(name), open, 1);
      lua.lua_pop(L, 1);
    }
    if (lauxlib.luaL_dostring(L, fengari.to_luastring(PRELUDE)) !== 0) {
      throw new Error(`internal: Lua prelude failed: ${text(lua.lua_tolstring(L, -1))}`);
    }
    this.installNatives(L);
    const protect = `
      local real = _G
      local proxy = setmetatable({}, {
        __index = function(_, k)
          local v = rawget(real, k)
          if v == nil then error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
          return v
        end,
        __newindex = function() error("Attempt to modify a readonly table", 2) end,
        __metatable = false,
      })
      rawset(real, "_G", proxy)
      return proxy
    `;
    if (lauxlib.luaL_dostring(L, fengari.to_luastring(protect)) !== 0) {
      throw new Error(`internal: Lua protection failed: ${text(lua.lua_tolstring(L, -1))}`);
    }
    // The proxy stays on the registry as every script's environment.
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, fengari.to_luastring("test_support_env"));
    return L;
  }

  private installNatives(L: LuaState): void {
    const set = (table: string, name: string, fn: (L: LuaState) => number) => {
      lua.lua_getglobal(L, fengari.to_luastring(table));
      lua.lua_pushjsfunction(L, fn);
      lua.lua_setfield(L, -2, fengari.to_luastring(name));
      lua.lua_pop(L, 1);
    };
    set("string", "format", (state) => this.format(state));
    // tostring goes through luaL_tolstring, which formats numbers itself; Lua 5.1 prints them with %.14g.
    lua.lua_pushjsfunction(L, (state: LuaState) => {
      lauxlib.luaL_checkany(state, 1);
      if (lua.lua_type(state, 1) === lua.LUA_TNUMBER) {
        lua.lua_pushstring(state, bytes(this.numberText(state, lua.lua_tonumber(state, 1))));
      } else lauxlib.luaL_tolstring(state, 1);
      return 1;
    });
    lua.lua_setglobal(L, fengari.to_luastring("tostring"));
    set("math", "random", (state) => this.random(state));
    set("math", "randomseed", (state) => {
      this.rand = (BigInt(Math.trunc(lauxlib.luaL_checknumber(state, 1)) >>> 0) << 16n) | 0x330en;
      return 0;
    });
    // Libraries Redis loads that the double does not have: any use is refused.
    for (const library of ["cjson", "cmsgpack", "struct", "bit"]) {
      lua.lua_newtable(L);
      lua.lua_newtable(L);
      lua.lua_pushjsfunction(L, (state: LuaState) => {
        const member = lua.lua_type(state, 2) === lua.LUA_TSTRING ? text(lua.lua_tolstring(state, 2)) : "?";
        return this.refuse(
          state,
          new Refusal(
            `a Lua script using ${library}.${member}`,
            `the double's Lua has no ${library} library`,
          ),
        );
      });
      lua.lua_setfield(L, -2, fengari.to_luastring("__index"));
      lua.lua_setmetatable(L, -2);
      lua.lua_setglobal(L, fengari.to_luastring(library));
    }
    // The redis table.
    lua.lua_newtable(L);
    const fn = (name: string, f: (state: LuaState) => number) => {
      lua.lua_pushjsfunction(L, f);
      lua.lua_setfield(L, -2, fengari.to_luastring(name));
    };
    const num = (name: string, value: number) => {
      lua.lua_pushnumber(L, value);
      lua.lua_setfield(L, -2, fengari.to_luastring(name));
    };
    fn("call", (state) => this.redisCall(state, false));
    fn("pcall", (state) => this.redisCall(state, true));
    fn("error_reply", (state) => {
      const message = text(lauxlib.luaL_checklstring(state, 1));
      pushTable(state, "err", message.startsWith("-") ? message.slice(1) : `ERR ${message}`);
      return 1;
    });
    fn("status_reply", (state) => {
      pushTable(state, "ok", text(lauxlib.luaL_checklstring(state, 1)));
      return 1;
    });
    fn("sha1hex", (state) => {
      lua.lua_pushstring(state, bytes(sha1(text(lauxlib.luaL_checklstring(state, 1)))));
      return 1;
    });
    fn("log", () => 0);
    fn("setresp", (state) => {
      if (lauxlib.luaL_checknumber(state, 1) === 2) return 0;
      return this.refuse(
        state,
        new Refusal("redis.setresp(3) in a Lua script", "the double speaks RESP2 only"),
      );
    });
    fn("set_repl", () => 0);
    fn("replicate_commands", (state) => {
      lua.lua_pushboolean(state, true);
      return 1;
    });
    fn("breakpoint", (state) => {
      lua.lua_pushboolean(state, false);
      return 1;
    });
    fn("debug", () => 0);
    num("LOG_DEBUG", 0);
    num("LOG_VERBOSE", 1);
    num("LOG_NOTICE", 2);
    num("LOG_WARNING", 3);
    num("REPL_NONE", 0);
    num("REPL_AOF", 1);
    num("REPL_SLAVE", 2);
    num("REPL_REPLICA", 2);
    num("REPL_ALL", 3);
    lua.lua_pushstring(L, bytes("7.0.15"));
    lua.lua_setfield(L, -2, fengari.to_luastring("REDIS_VERSION"));
    num("REDIS_VERSION_NUM", 0x00070f);
    lua.lua_setglobal(L, fengari.to_luastring("redis"));
  }

  /** A number as Lua 5.1 prints it; NaN (whose printed sign C takes from the bit pattern) is refused. */
  private numberText(state: LuaState, value: number): string {
    try {
      return luaNumberText(value);
    } catch (error) {
      if (error instanceof Refusal) {
        this.refuse(state, error);
      }
      throw error;
    }
  }

  /** Raises a Lua error after recording the refusal, which then becomes the script's reply. */
  private refuse(state: LuaState, refusal: Refusal): number {
    if (this.run && !this.run.refusal) this.run.refusal = refusal;
    lua.lua_pushstring(state, bytes(refusal.message));
    return lua.lua_error(state);
  }

  /** Redis's rand48, so math.randomseed(n) gives the numbers Redis gives. */
  private nextRandom(): number {
    this.rand = (0x5deece66dn * this.rand + 0xbn) & ((1n << 48n) - 1n);
    const value = Number(this.rand >> 17n);
    return (value % 2147483647) / 2147483647;
  }

  private random(state: LuaState): number {
    const r = this.nextRandom();
    const argc = lua.lua_gettop(state);
    if (argc === 0) lua.lua_pushnumber(state, r);
    else if (argc === 1) {
      const u = Math.trunc(lauxlib.luaL_checknumber(state, 1));
      if (u < 1) return lauxlib.luaL_argerror(state, 1, fengari.to_luastring("interval is empty"));
      lua.lua_pushnumber(state, Math.floor(r * u) + 1);
    } else if (argc === 2) {
      const l = Math.trunc(lauxlib.luaL_checknumber(state, 1));
      const u = Math.trunc(lauxlib.luaL_checknumber(state, 2));
      if (l > u) return lauxlib.luaL_argerror(state, 2, fengari.to_luastring("interval is empty"));
      lua.lua_pushnumber(state, Math.floor(r * (u - l + 1)) + l);
    } else return lauxlib.luaL_error(state, fengari.to_luastring("wrong number of arguments"));
    return 1;
  }

  /** string.format as Lua 5.1 on glibc. */
  private format(state: LuaState): number {
    const top = lua.lua_gettop(state);
    const format = text(lauxlib.luaL_checklstring(state, 1));
    let out = "";
    let arg = 1;
    for (let i = 0; i < format.length; ) {
      const c = format[i] as string;
      if (c !== "%") {
        out += c;
        i++;
        continue;
      }
      if (format[i + 1] === "%") {
        out += "%";
        i += 2;
        continue;
      }
      arg++;
      if (arg > top) return lauxlib.luaL_argerror(state, arg, fengari.to_luastring("no value"));
      let scanned: { spec: Conversion; end: number };
      try {
        scanned = scanFormat(format, i + 1);
      } catch (error) {
        return lauxlib.luaL_error(state, fengari.to_luastring((error as FormatError).message));
      }
      const { spec } = scanned;
      i = scanned.end;
      try {
        switch (spec.conversion) {
          case "c":
            out += String.fromCharCode(Math.trunc(lauxlib.luaL_checknumber(state, arg)) & 0xff);
            break;
          case "d":
          case "i":
          case "o":
          case "u":
          case "x":
          case "X":
            out += formatInteger(lauxlib.luaL_checknumber(state, arg), spec);
            break;
          case "e":
          case "E":
          case "f":
          case "g":
          case "G":
            out += formatFloat(lauxlib.luaL_checknumber(state, arg), spec);
            break;
          case "q":
            out += formatQuoted(text(lauxlib.luaL_checklstring(state, arg)));
            break;
          case "s": {
            let value: string;
            if (lua.lua_type(state, arg) === lua.LUA_TNUMBER)
              value = this.numberText(state, lua.lua_tonumber(state, arg));
            else {
              value = text(lauxlib.luaL_tolstring(state, arg));
              lua.lua_pop(state, 1);
            }
            out += spec.precision === undefined && value.length >= 100 ? value : formatString(value, spec);
            break;
          }
          default:
            return lauxlib.luaL_error(
              state,
              fengari.to_luastring(`invalid option '%${spec.conversion}' to 'format'`),
            );
        }
      } catch (error) {
        if (error instanceof FormatUnsupported) {
          return this.refuse(
            state,
            new Refusal(`string.format of ${error.message} in a Lua script`, "not reproduced"),
          );
        }
        throw error;
      }
    }
    lua.lua_pushstring(state, bytes(out));
    return 1;
  }

  private redisCall(state: LuaState, protectedCall: boolean): number {
    const run = this.run;
    if (!run) return lauxlib.luaL_error(state, fengari.to_luastring("redis.call outside a script"));
    const argc = lua.lua_gettop(state);
    const raise = (message: string): number => {
      if (protectedCall) {
        pushTable(state, "err", message);
        return 1;
      }
      pushTable(state, "err", message);
      return lua.lua_error(state);
    };
    if (argc === 0) return raise("ERR Please specify at least one argument for this redis lib call");
    const argv: string[] = [];
    for (let i = 1; i <= argc; i++) {
      const type = lua.lua_type(state, i);
      if (type === lua.LUA_TNUMBER) {
        argv.push(redisNumberText(lua.lua_tonumber(state, i)));
      } else if (type === lua.LUA_TSTRING) {
        argv.push(text(lua.lua_tolstring(state, i)));
      } else return raise("ERR Lua redis lib command arguments must be strings or integers");
    }
    let reply: Reply;
    try {
      reply = this.call(run.ctx, argv);
    } catch (error) {
      if (error instanceof ReplyError) return raise(error.message);
      if (error instanceof Refusal) return this.refuse(state, error);
      return this.refuse(
        state,
        new Refusal(
          "(an internal error of the double)",
          `the double failed unexpectedly (${String(error)}); please report it`,
        ),
      );
    }
    pushReply(state, reply);
    return 1;
  }

  /** Pushes the compiled function of a body (compiling it once), or throws the compile error. */
  private load(body: string): void {
    const sha = sha1(body);
    if (body.startsWith("#!")) {
      throw new Refusal("a script with a #! flags line", "Redis 7 script flags are not reproduced");
    }
    const newer = lua53Syntax(body);
    if (newer) {
      throw new ReplyError(
        `ERR Error compiling script (new function): user_script: Lua 5.1 has no '${newer}' operator`,
      );
    }
    const L = this.L;
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, fengari.to_luastring(`f_${sha}`));
    if (lua.lua_type(L, -1) === lua.LUA_TFUNCTION) return;
    lua.lua_pop(L, 1);
    const size = Buffer.byteLength(body, "latin1");
    if (lauxlib.luaL_loadbuffer(L, bytes(body), size, fengari.to_luastring("@user_script")) !== 0) {
      const message = text(lua.lua_tolstring(L, -1));
      lua.lua_pop(L, 1);
      throw new ReplyError(`ERR Error compiling script (new function): ${message}`);
    }
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, fengari.to_luastring("test_support_env"));
    lua.lua_setupvalue(L, -2, 1);
    lua.lua_pushvalue(L, -1);
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, fengari.to_luastring(`f_${sha}`));
  }

  /** Compiles a body (SCRIPT LOAD), throwing the error Redis would give. */
  compile(body: string): void {
    const L = this.L;
    const top = lua.lua_gettop(L);
    try {
      withLua51Numbers(() => this.load(body));
    } finally {
      lua.lua_settop(L, top);
    }
  }

  /** Compiles (once) and runs a script body; the reply, or throws ReplyError/Refusal. */
  eval(ctx: CallContext, body: string, keys: string[], args: string[]): Reply {
    const sha = sha1(body);
    const L = this.L;
    return withLua51Numbers(() => {
      const top = lua.lua_gettop(L);
      try {
        this.load(body);
        setStringArray(L, "KEYS", keys);
        setStringArray(L, "ARGV", args);
        const run: ScriptRun = { ctx, refusal: undefined };
        this.run = run;
        let status: number;
        try {
          status = lua.lua_pcall(L, 0, 1, 0);
        } finally {
          this.run = undefined;
        }
        if (run.refusal) throw run.refusal;
        if (status !== 0) throw scriptError(L, sha);
        return toReply(L, -1, sha);
      } finally {
        lua.lua_settop(L, top);
      }
    });
  }
}

/** How Redis 7.0 turns a Lua number argument of redis.call into a string (%.17g). */
function redisNumberText(value: number): string {
  if (Number.isNaN(value)) {
    throw new Refusal("a Lua script passing NaN to redis.call", "C prints nan or -nan by the sign bit");
  }
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  return formatG(value, 17);
}

function pushTable(L: LuaState, field: string, value: string): void {
  lua.lua_newtable(L);
  lua.lua_pushstring(L, bytes(value));
  lua.lua_setfield(L, -2, fengari.to_luastring(field));
}

function setStringArray(L: LuaState, name: string, values: string[]): void {
  lua.lua_createtable(L, values.length, 0);
  values.forEach((value, i) => {
    lua.lua_pushstring(L, bytes(value));
    lua.lua_rawseti(L, -2, i + 1);
  });
  lua.lua_pushglobaltable(L);
  lua.lua_insert(L, -2);
  lua.lua_setfield(L, -2, fengari.to_luastring(name));
  lua.lua_pop(L, 1);
}

/** Redis reply → Lua value (redis.call's result). */
function pushReply(L: LuaState, reply: Reply): void {
  if (reply === null) lua.lua_pushboolean(L, false);
  else if (typeof reply === "number") lua.lua_pushnumber(L, reply);
  else if (typeof reply === "bigint") lua.lua_pushnumber(L, Number(reply));
  else if (typeof reply === "string") lua.lua_pushstring(L, bytes(reply));
  else if (reply instanceof Status) pushTable(L, "ok", reply.value);
  else if (reply instanceof ReplyError) pushTable(L, "err", reply.message);
  else {
    lua.lua_createtable(L, reply.length, 0);
    reply.forEach((item, i) => {
      pushReply(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  }
}

function stringField(L: LuaState, index: number, field: string): string | undefined {
  lua.lua_getfield(L, index, fengari.to_luastring(field));
  const value = lua.lua_type(L, -1) === lua.LUA_TSTRING ? text(lua.lua_tolstring(L, -1)) : undefined;
  lua.lua_pop(L, 1);
  return value;
}

/** Lua value → Redis reply (the script's return value). */
function toReply(L: LuaState, index: number, sha: string): Reply {
  const at = lua.lua_absindex(L, index);
  switch (lua.lua_type(L, at)) {
    case lua.LUA_TSTRING:
      return text(lua.lua_tolstring(L, at));
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, at) ? 1 : null;
    case lua.LUA_TNUMBER: {
      const value = lua.lua_tonumber(L, at);
      if (!Number.isFinite(value) || Math.abs(value) >= 2 ** 63) {
        throw new Refusal(
          `a Lua script returning ${value}`,
          "C's conversion of it to a 64-bit integer is undefined",
        );
      }
      const truncated = Math.trunc(value);
      return Number.isSafeInteger(truncated) ? truncated : BigInt(truncated);
    }
    case lua.LUA_TTABLE: {
      const err = stringField(L, at, "err");
      if (err !== undefined) return new ReplyError(err);
      const ok = stringField(L, at, "ok");
      if (ok !== undefined) return new Status(ok);
      const out: Reply[] = [];
      for (let i = 1; ; i++) {
        lua.lua_rawgeti(L, at, i);
        if (lua.lua_type(L, -1) === lua.LUA_TNIL) {
          lua.lua_pop(L, 1);
          break;
        }
        out.push(toReply(L, -1, sha));
        lua.lua_pop(L, 1);
      }
      return out;
    }
    default:
      return null;
  }
}

/** The reply for an error a script raised. */
function scriptError(L: LuaState, sha: string): ReplyError | Refusal {
  const suffix = ` script: ${sha}, on @user_script:1.`;
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
    const err = stringField(L, -1, "err");
    if (err === undefined) {
      return new Refusal("a Lua script raising a table without an err field", "Redis 7.0.15 crashes on it");
    }
    return new ReplyError(`${err}${suffix}`);
  }
  const message =
    lua.lua_type(L, -1) === lua.LUA_TSTRING || lua.lua_type(L, -1) === lua.LUA_TNUMBER
      ? text(lua.lua_tolstring(L, -1))
      : "unknown error";
  if (/number has no integer representation|attempt to perform 'n%%0'/.test(message)) {
    return new Refusal(
      "a Lua script whose numbers Lua 5.3 and Redis's Lua 5.1 treat differently",
      `the double's Lua raised "${message}", where Lua 5.1 computes a value`,
    );
  }
  return new ReplyError(`ERR ${message}${suffix}`);
}
