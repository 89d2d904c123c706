// Seeded random OpenFGA models and tuples for the differential test; a failing seed replays exactly.
import type { TupleKey } from "@openfga/sdk";

/** A small seeded generator (mulberry32), so a failing seed can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, pick };
}

export const USERS = ["user:u0", "user:u1", "user:u2", "user:u3"];
export const GROUPS = ["group:g0", "group:g1"];
export const DOCS = ["doc:d0", "doc:d1", "doc:d2", "doc:d3"];
export const RELATIONS = ["r0", "r1", "r2", "r3", "r4"];

/** A valid model: r0 is direct; each later relation combines earlier ones, so there is always an entry point. */
export function generateModel(seed: number): string {
  const { next, pick } = random(seed);
  const lines = [
    "model",
    "  schema 1.1",
    "type user",
    "type group",
    "  relations",
    "    define member: [user, group#member]",
    "type doc",
    "  relations",
    "    define parent: [doc]",
    "    define r0: [user, user:*, group#member]",
  ];
  for (let i = 1; i < RELATIONS.length; i++) {
    const earlier = RELATIONS.slice(0, i);
    const term = () => {
      const roll = next();
      if (roll < 0.2) return `${pick(earlier)} from parent`;
      return pick(earlier);
    };
    // Two different operands: the server rejects some models that name one relation twice in an
    // intersection or exclusion ("potential loop"), a corner the in-memory OpenFGA does not mirror.
    const pair = (): [string, string] => {
      const a = term();
      let b = term();
      for (let tries = 0; b === a && tries < 10; tries++) b = term();
      return [a, b];
    };
    const shape = next();
    let rewrite: string;
    if (shape < 0.25) rewrite = `[user, group#member] or ${term()}`;
    else if (shape < 0.45) rewrite = pair().join(" or ");
    else if (shape < 0.65) rewrite = pair().join(" and ");
    else if (shape < 0.85) rewrite = pair().join(" but not ");
    else rewrite = `[user] or ${pick(earlier)} from parent`;
    lines.push(`    define ${RELATIONS[i]}: ${rewrite}`);
  }
  return `${lines.join("\n")}\n`;
}

export function generateTuples(seed: number, model: string): TupleKey[] {
  const { next, pick } = random(seed * 7919 + 1);
  const tuples = new Map<string, TupleKey>();
  const directRelations = RELATIONS.filter((r) => new RegExp(`define ${r}: \\[`).test(model));
  for (let i = 0; i < 24; i++) {
    const roll = next();
    let key: TupleKey;
    if (roll < 0.15) key = { user: pick(USERS), relation: "member", object: pick(GROUPS) };
    else if (roll < 0.2) {
      // Not a group in itself: the server refuses such an implied tuple.
      const [inner, outer] = next() < 0.5 ? GROUPS : [...GROUPS].reverse();
      key = { user: `${inner}#member`, relation: "member", object: outer as string };
    } else if (roll < 0.35) key = { user: pick(DOCS), relation: "parent", object: pick(DOCS) };
    else {
      const relation = pick(directRelations);
      const allowsGroups = new RegExp(`define ${relation}: \\[[^\\]]*group#member`).test(model);
      const user =
        relation === "r0" && next() < 0.15
          ? "user:*"
          : allowsGroups && next() < 0.2
            ? `${pick(GROUPS)}#member`
            : pick(USERS);
      key = { user, relation, object: pick(DOCS) };
    }
    tuples.set(`${key.object}#${key.relation}@${key.user}`, key);
  }
  return [...tuples.values()];
}
