// Reads Redis's own command table (COMMAND INFO and COMMAND DOCS) from a real server and normalizes it into
// the shape src/redis/command-table.json commits, so the double's list of commands comes from the server.
import type { Redis } from "ioredis";
import type { CommandTable, CommandTableEntry, KeySpec } from "../../src/redis/commands.js";

type Raw = unknown[];

function pairs(list: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  const items = list as unknown[];
  for (let i = 0; i + 1 < items.length; i += 2) map.set(String(items[i]), items[i + 1]);
  return map;
}

function keySpecOf(raw: unknown): KeySpec {
  const spec = pairs(raw);
  const begin = pairs(spec.get("begin_search"));
  const find = pairs(spec.get("find_keys"));
  const beginSpec = pairs(begin.get("spec"));
  const findSpec = pairs(find.get("spec"));
  const out: KeySpec = {
    flags: (spec.get("flags") as string[]).map(String),
    begin:
      begin.get("type") === "index"
        ? { index: Number(beginSpec.get("index")) }
        : begin.get("type") === "keyword"
          ? { keyword: String(beginSpec.get("keyword")), startfrom: Number(beginSpec.get("startfrom")) }
          : "unknown",
    find:
      find.get("type") === "range"
        ? {
            lastkey: Number(findSpec.get("lastkey")),
            keystep: Number(findSpec.get("keystep")),
            limit: Number(findSpec.get("limit")),
          }
        : find.get("type") === "keynum"
          ? {
              keynumidx: Number(findSpec.get("keynumidx")),
              firstkey: Number(findSpec.get("firstkey")),
              keystep: Number(findSpec.get("keystep")),
            }
          : "unknown",
  };
  return out;
}

function entryOf(info: Raw, docs: Map<string, unknown> | undefined): CommandTableEntry {
  const [, arity, flags, , , , acl, , specs, subcommands] = info as [
    string,
    number,
    string[],
    number,
    number,
    number,
    string[],
    string[],
    unknown[],
    Raw[],
  ];
  const entry: CommandTableEntry = {
    arity: Number(arity),
    flags: flags.map(String),
    acl: acl.map(String),
    group: String(docs?.get("group") ?? ""),
    since: String(docs?.get("since") ?? ""),
    summary: String(docs?.get("summary") ?? ""),
    keySpecs: specs.map(keySpecOf),
  };
  if (subcommands.length > 0) {
    const subDocs = pairs(docs?.get("subcommands") ?? []);
    entry.subcommands = {};
    for (const sub of [...subcommands].sort((a, b) => String(a[0]).localeCompare(String(b[0])))) {
      const full = String(sub[0]).toLowerCase();
      const name = full.slice(full.indexOf("|") + 1);
      entry.subcommands[name] = entryOf(sub, pairs(subDocs.get(full) ?? []));
    }
  }
  return entry;
}

/** The server's command table, normalized and sorted so the committed file diffs cleanly. */
export async function readCommandTable(client: Redis): Promise<CommandTable> {
  const infos = (await client.call("COMMAND", "INFO")) as Raw[];
  const docs = pairs(await client.call("COMMAND", "DOCS"));
  const info = String(await client.call("INFO", "server"));
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  const commands: Record<string, CommandTableEntry> = {};
  for (const raw of [...infos].sort((a, b) => String(a[0]).localeCompare(String(b[0])))) {
    const name = String(raw[0]).toLowerCase();
    commands[name] = entryOf(raw, pairs(docs.get(name) ?? []));
  }
  return { server: version, commands };
}
