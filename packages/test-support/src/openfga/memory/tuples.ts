/** A tuple key as the API carries it. */
export interface TupleKey {
  user: string;
  relation: string;
  object: string;
  condition?: { name: string; context?: Record<string, unknown> | null } | null;
}

/** A user string taken apart: `type:id`, `type:*` or `type:id#relation`. */
export type ParsedUser =
  | { kind: "object"; type: string; id: string }
  | { kind: "wildcard"; type: string }
  | { kind: "userset"; type: string; id: string; relation: string };

/** `type:id` → its parts, or undefined when it is not an object reference. */
export function parseObject(object: string): { type: string; id: string } | undefined {
  const colon = object.indexOf(":");
  if (colon <= 0 || colon === object.length - 1) return undefined;
  const type = object.slice(0, colon);
  const id = object.slice(colon + 1);
  if (id.includes("#") || /\s/.test(object)) return undefined;
  return { type, id };
}

/** A user string → its parts, or undefined when malformed. */
export function parseUser(user: string): ParsedUser | undefined {
  const hash = user.indexOf("#");
  const base = hash === -1 ? user : user.slice(0, hash);
  const object = parseObject(base);
  if (!object) return undefined;
  if (hash !== -1) {
    const relation = user.slice(hash + 1);
    if (!relation || object.id === "*") return undefined;
    return { kind: "userset", type: object.type, id: object.id, relation };
  }
  if (object.id === "*") return { kind: "wildcard", type: object.type };
  return { kind: "object", type: object.type, id: object.id };
}

/** The canonical text of a tuple, as the server prints it: `object#relation@user`. */
export function tupleString(key: Pick<TupleKey, "object" | "relation" | "user">): string {
  return `${key.object}#${key.relation}@${key.user}`;
}

/** The identity of a tuple (its condition is not part of it). */
export function tupleId(key: Pick<TupleKey, "object" | "relation" | "user">): string {
  return `${key.object}#${key.relation}@${key.user}`;
}

/** Reads tuples by object and relation; evaluation goes through this. */
export interface TupleSource {
  /** The tuples of object#relation, in the order the server reads them. */
  read(object: string, relation: string): readonly TupleKey[];
  /** The tuple object#relation@user, if any. */
  readUser(object: string, relation: string, user: string): TupleKey | undefined;
  /** Every tuple whose object is of `type` and whose relation is `relation`. */
  readByType(type: string, relation: string): readonly TupleKey[];
  /** Whether `tuple` is one of the request's contextual tuples. */
  isContextual?(tuple: TupleKey): boolean;
}

/** An in-memory tuple index by object#relation, in write order (the order the server's memory store keeps). */
export class TupleIndex implements TupleSource {
  private readonly byObjectRelation = new Map<string, Map<string, TupleKey>>();
  private readonly typeMembers = new Map<string, Set<string>>();

  constructor(tuples: Iterable<TupleKey> = []) {
    for (const tuple of tuples) this.add(tuple);
  }

  add(tuple: TupleKey): void {
    const slot = `${tuple.object}#${tuple.relation}`;
    let users = this.byObjectRelation.get(slot);
    if (!users) {
      users = new Map();
      this.byObjectRelation.set(slot, users);
    }
    users.set(tuple.user, tuple);
    this.note(tuple.object);
    const user = parseUser(tuple.user);
    if (user && user.kind !== "wildcard") this.note(`${user.type}:${user.id}`);
  }

  delete(tuple: Pick<TupleKey, "object" | "relation" | "user">): boolean {
    return this.byObjectRelation.get(`${tuple.object}#${tuple.relation}`)?.delete(tuple.user) ?? false;
  }

  has(tuple: Pick<TupleKey, "object" | "relation" | "user">): boolean {
    return this.byObjectRelation.get(`${tuple.object}#${tuple.relation}`)?.has(tuple.user) ?? false;
  }

  read(object: string, relation: string): readonly TupleKey[] {
    const users = this.byObjectRelation.get(`${object}#${relation}`);
    return users ? [...users.values()] : [];
  }

  readUser(object: string, relation: string, user: string): TupleKey | undefined {
    return this.byObjectRelation.get(`${object}#${relation}`)?.get(user);
  }

  readByType(type: string, relation: string): readonly TupleKey[] {
    const out: TupleKey[] = [];
    for (const object of this.typeMembers.get(type) ?? []) out.push(...this.read(object, relation));
    return out;
  }

  private note(object: string): void {
    const parsed = parseObject(object);
    if (!parsed) return;
    let members = this.typeMembers.get(parsed.type);
    if (!members) {
      members = new Set();
      this.typeMembers.set(parsed.type, members);
    }
    members.add(object);
  }
}

/**
 * Stored tuples seen together with a request's contextual tuples, the way the server combines them: a read
 * yields the matching contextual tuples first and then the stored ones, without merging the two; a lookup
 * of one user takes the contextual tuple when there is one.
 */
export class LayeredTuples implements TupleSource {
  private readonly contextual: Set<TupleKey>;

  constructor(
    private readonly stored: TupleSource,
    private readonly contextualTuples: readonly TupleKey[],
  ) {
    this.contextual = new Set(contextualTuples);
  }

  read(object: string, relation: string): readonly TupleKey[] {
    const extra = this.contextualTuples.filter((t) => t.object === object && t.relation === relation);
    const stored = this.stored.read(object, relation);
    return extra.length === 0 ? stored : [...extra, ...stored];
  }

  readUser(object: string, relation: string, user: string): TupleKey | undefined {
    return (
      this.contextualTuples.find((t) => t.object === object && t.relation === relation && t.user === user) ??
      this.stored.readUser(object, relation, user)
    );
  }

  readByType(type: string, relation: string): readonly TupleKey[] {
    const extra = this.contextualTuples.filter(
      (t) => t.relation === relation && parseObject(t.object)?.type === type,
    );
    return [...extra, ...this.stored.readByType(type, relation)];
  }

  isContextual(tuple: TupleKey): boolean {
    return this.contextual.has(tuple);
  }
}

// The server's string rules for objects, relations and users (OpenFGA's pkg/tuple), character by character:
// they decide which validation message a malformed value gets.
const isControl = (chr: string) => /\p{Cc}/u.test(chr);

/** `type:id` with no `#` or space, a non-empty id, and one `:` not in first place. */
export function isValidObject(s: string): boolean {
  let state = 0;
  let idLength = 0;
  let index = 0;
  for (const chr of s) {
    if (isControl(chr) || chr === "#" || chr === " ") return false;
    if (chr === ":") {
      if (state > 0 || index === 0) return false;
      state = 1;
    } else idLength += state;
    index += chr.length;
  }
  return idLength > 0;
}

/** A relation name: no `#`, `:`, `@` or space. */
export function isValidRelation(s: string): boolean {
  if (s.length === 0) return false;
  for (const chr of s) if (isControl(chr) || "#:@ ".includes(chr)) return false;
  return true;
}

function isValidUserId(s: string): boolean {
  if (s.length === 0) return false;
  for (const chr of s) if (isControl(chr) || "#: ".includes(chr)) return false;
  return true;
}

/** `type:id#relation`, with neither part empty and no wildcard id. */
export function isValidUserset(s: string): boolean {
  let state = 0;
  let idLength = 0;
  let relationLength = 0;
  let index = 0;
  for (const chr of s) {
    if (isControl(chr) || chr === " ") return false;
    if (chr === ":") {
      if (state > 0 || index === 0) return false;
      state = 1;
    } else if (chr === "#") {
      if (state > 1 || idLength === 0) return false;
      state = 2;
    } else if (chr === "*") {
      if (state > 0) return false;
    } else if (state === 1) idLength++;
    else if (state === 2) relationLength++;
    index += chr.length;
  }
  return relationLength > 0;
}

/** Any shape the server takes as a user before the model is consulted. */
export function isValidUser(user: string): boolean {
  return user === "*" || isValidUserId(user) || isValidObject(user) || isValidUserset(user);
}

/** `type:*`. */
export function isTypedWildcard(s: string): boolean {
  const colon = s.indexOf(":");
  return colon > 0 && s.slice(colon + 1) === "*";
}

/** The type of `type:id` (the part before the first `:`), or "" without one. */
export function typeOf(object: string): string {
  const colon = object.indexOf(":");
  return colon === -1 ? "" : object.slice(0, colon);
}

/** `object#relation` split at the last `#`. */
export function splitObjectRelation(s: string): [string, string] {
  const hash = s.lastIndexOf("#");
  if (hash === -1) return [s, ""];
  return [s.slice(0, hash), s.slice(hash + 1)];
}
