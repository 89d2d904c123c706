import table from "./command-table.json" with { type: "json" };

/** Where a command's keys start: an argument index, after a keyword, or not described (the command says). */
export type KeySpecBegin = { index: number } | { keyword: string; startfrom: number } | "unknown";
/** How many keys follow the start: a range, a count given in an argument, or not described. */
export type KeySpecFind =
  | { lastkey: number; keystep: number; limit: number }
  | { keynumidx: number; firstkey: number; keystep: number }
  | "unknown";

/** One key specification of COMMAND INFO (Redis 7). */
export interface KeySpec {
  flags: string[];
  begin: KeySpecBegin;
  find: KeySpecFind;
}

/** One command (or subcommand) of the server's table. */
export interface CommandTableEntry {
  arity: number;
  flags: string[];
  acl: string[];
  group: string;
  since: string;
  summary: string;
  keySpecs: KeySpec[];
  subcommands?: Record<string, CommandTableEntry>;
}

/** The server's command table, as committed in command-table.json (generated from COMMAND INFO/DOCS). */
export interface CommandTable {
  server: string;
  commands: Record<string, CommandTableEntry>;
}

/** The committed table of the Redis version the double is checked against. */
export const COMMAND_TABLE = table as CommandTable;

/** A command resolved against the table: its full name ("xgroup|create") and entry. */
export interface ResolvedCommand {
  /** Lower-case name, with the subcommand after a bar: "get", "xgroup|create". */
  name: string;
  /** How messages write it: "GET", "XGROUP CREATE". */
  display: string;
  entry: CommandTableEntry;
  /** The container's entry when this is a subcommand. */
  container?: CommandTableEntry;
}

function text(arg: unknown): string {
  return Buffer.isBuffer(arg) ? arg.toString("latin1") : String(arg);
}

/**
 * The table entry for argv (argv[0] is the command name), or undefined when the server does not know the
 * command. A container command with an unknown subcommand resolves to the container itself.
 */
export function resolveCommand(
  argv: readonly unknown[],
  commands: Record<string, CommandTableEntry> = COMMAND_TABLE.commands,
): ResolvedCommand | undefined {
  const name = text(argv[0]).toLowerCase();
  const entry = commands[name];
  if (!entry) return undefined;
  if (entry.subcommands && argv.length > 1) {
    const sub = text(argv[1]).toLowerCase();
    const subEntry = entry.subcommands[sub];
    if (subEntry) {
      return {
        name: `${name}|${sub}`,
        display: `${name} ${sub}`.toUpperCase(),
        entry: subEntry,
        container: entry,
      };
    }
  }
  return { name, display: name.toUpperCase(), entry };
}

/** True when argv has as many arguments as the entry's arity allows (negative arity: at least). */
export function arityOk(entry: CommandTableEntry, argc: number): boolean {
  return entry.arity >= 0 ? argc === entry.arity : argc >= -entry.arity;
}

/** A key position in argv and the flags of the key spec that found it. */
export interface KeyPosition {
  index: number;
  flags: string[];
}

function parseCount(arg: unknown): number | undefined {
  const value = text(arg);
  return /^(0|[1-9]\d*)$/.test(value) ? Number(value) : undefined;
}

/**
 * The positions of the keys in argv, found the way Redis's getKeysUsingKeySpecs finds them. Specs Redis
 * marks "unknown" are skipped; `unknownSpecs` reports whether there were any, so callers can handle them.
 */
export function keyPositions(
  resolved: ResolvedCommand,
  argv: readonly unknown[],
): { keys: KeyPosition[]; unknownSpecs: boolean } {
  const argc = argv.length;
  const keys: KeyPosition[] = [];
  let unknownSpecs = false;
  for (const spec of resolved.entry.keySpecs) {
    if (spec.begin === "unknown" || spec.find === "unknown") {
      unknownSpecs = true;
      continue;
    }
    let first: number;
    if ("index" in spec.begin) {
      first = spec.begin.index;
    } else {
      const keyword = spec.begin.keyword.toLowerCase();
      const start = spec.begin.startfrom >= 0 ? spec.begin.startfrom : argc + spec.begin.startfrom;
      const end = spec.begin.startfrom >= 0 ? argc - 1 : 1;
      const step = spec.begin.startfrom >= 0 ? 1 : -1;
      let found = -1;
      for (let i = start; step > 0 ? i <= end : i >= end; i += step) {
        if (text(argv[i]).toLowerCase() === keyword) {
          found = i;
          break;
        }
      }
      if (found < 0) continue;
      first = found + 1;
    }
    let last: number;
    let step: number;
    if ("lastkey" in spec.find) {
      const { lastkey, keystep, limit } = spec.find;
      if (lastkey >= 0) last = first + lastkey;
      else if (!limit) last = argc + lastkey;
      else last = first + (Math.floor((argc - first) / limit) + lastkey);
      step = keystep;
    } else {
      const { keynumidx, firstkey, keystep } = spec.find;
      if (first + keynumidx >= argc) continue;
      const count = parseCount(argv[first + keynumidx]);
      if (count === undefined) continue;
      first += firstkey;
      last = first + count - 1;
      step = keystep;
    }
    const found: KeyPosition[] = [];
    let valid = true;
    for (let i = first; i <= last; i += step) {
      if (i >= argc || i < first) {
        valid = false;
        break;
      }
      found.push({ index: i, flags: spec.flags });
    }
    // Like Redis: a spec whose keys run past the arguments yields none; the command then reports the error.
    if (valid) keys.push(...found);
  }
  return { keys, unknownSpecs };
}

/** True when the entry (or its container) carries the flag, e.g. "write" or "blocking". */
export function hasFlag(resolved: ResolvedCommand, flag: string): boolean {
  return resolved.entry.flags.includes(flag);
}
