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
  read(object: string, relation: string): readonly TupleKey[];
  /** Every object id of `type` that appears in some tuple, as object or as user. */
  objectsOfType(type: string): Iterable<string>;
  /** Every user of `type` (objects and wildcards) that appears in some tuple. */
  usersOfType(type: string): Iterable<string>;
}

/** An in-memory tuple index by object#relation. */
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
    if (user) this.note(user.kind === "wildcard" ? `${user.type}:*` : `${user.type}:${user.id}`);
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

  objectsOfType(type: string): Iterable<string> {
    return [...(this.typeMembers.get(type) ?? [])].filter((o) => !o.endsWith(":*"));
  }

  usersOfType(type: string): Iterable<string> {
    return this.typeMembers.get(type) ?? [];
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

/** Stored tuples seen together with a request's contextual tuples (contextual ones win on the same key). */
export class LayeredTuples implements TupleSource {
  constructor(
    private readonly stored: TupleSource,
    private readonly contextual: TupleIndex,
  ) {}

  read(object: string, relation: string): readonly TupleKey[] {
    const extra = this.contextual.read(object, relation);
    if (extra.length === 0) return this.stored.read(object, relation);
    const seen = new Set(extra.map((t) => t.user));
    return [...extra, ...this.stored.read(object, relation).filter((t) => !seen.has(t.user))];
  }

  objectsOfType(type: string): Iterable<string> {
    return new Set([...this.stored.objectsOfType(type), ...this.contextual.objectsOfType(type)]);
  }

  usersOfType(type: string): Iterable<string> {
    return new Set([...this.stored.usersOfType(type), ...this.contextual.usersOfType(type)]);
  }
}
