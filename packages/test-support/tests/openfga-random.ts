// Seeded random OpenFGA scenarios for the differential test: a model (and invalid variants of it), stored
// tuples and queries on every read endpoint. A failing seed replays exactly.
//
// The shapes are chosen to reach what OpenFGA's conformance suites do not: conditions on paths the server
// prunes by type, conditions it never evaluates, implicit and invalid contextual tuples on every endpoint,
// usersets as the list-objects user, list-users filters on usersets and on the object's own type, wildcards
// meeting exclusion and intersection, conditioned wildcards, and invalid models of each kind the server
// refuses.

/** A small seeded generator (mulberry32), so a failing seed can be replayed. */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const chance = (p: number) => next() < p;
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return { next, pick, chance, int };
}
type Rng = ReturnType<typeof random>;

/** A tuple key as the API carries it. */
export interface Tuple {
  user: string;
  relation: string;
  object: string;
  condition?: { name: string; context?: Record<string, unknown> };
}

/** A type restriction as the API carries it. */
interface Restriction {
  type: string;
  relation?: string;
  wildcard?: Record<string, never>;
  condition?: string;
}

/** A relation's rewrite as the API carries it. */
export type Userset =
  | { this: Record<string, never> }
  | { computedUserset: { relation: string } }
  | { tupleToUserset: { tupleset: { relation: string }; computedUserset: { relation: string } } }
  | { union: { child: Userset[] } }
  | { intersection: { child: Userset[] } }
  | { difference: { base: Userset; subtract: Userset } };

interface TypeDefinition {
  type: string;
  relations?: Record<string, Userset>;
  metadata?: { relations: Record<string, { directly_related_user_types: Restriction[] }> } | null;
}

interface ConditionParameter {
  type_name: string;
  generic_types?: ConditionParameter[];
}

/** A model as the write endpoint takes it. */
export interface ModelBody {
  schema_version: string;
  type_definitions: TypeDefinition[];
  conditions?: Record<
    string,
    { name: string; expression: string; parameters: Record<string, ConditionParameter> }
  >;
}

/** One request to a read endpoint, with the features it exercises. */
export interface Query {
  endpoint: "check" | "batch-check" | "list-objects" | "list-users" | "write";
  body: Record<string, unknown>;
  tags: string[];
}

/** Everything one seed runs: models to write (the last accepted one is queried), tuples, queries. */
export interface Scenario {
  seed: number;
  model: ModelBody;
  /** Models the server should refuse, each with the kind of defect it carries. */
  invalidModels: { kind: string; body: ModelBody }[];
  tuples: Tuple[];
  queries: Query[];
}

const TERMINALS = ["user", "employee"];
const OBJECTS: Record<string, string[]> = {
  group: ["group:g0", "group:g1", "group:g2"],
  folder: ["folder:f0", "folder:f1", "folder:f2"],
  doc: ["doc:d0", "doc:d1", "doc:d2", "doc:d3"],
};
const USERS = ["user:u0", "user:u1", "user:u2", "user:u3"];
const EMPLOYEES = ["employee:e0", "employee:e1"];

const CONDITIONS: ModelBody["conditions"] = {
  eq: {
    name: "eq",
    expression: "s == expected",
    parameters: { s: { type_name: "TYPE_NAME_STRING" }, expected: { type_name: "TYPE_NAME_STRING" } },
  },
  lt: { name: "lt", expression: "x < 10", parameters: { x: { type_name: "TYPE_NAME_INT" } } },
  flag: { name: "flag", expression: "on", parameters: { on: { type_name: "TYPE_NAME_BOOL" } } },
  listed: {
    name: "listed",
    expression: "id in allowed",
    parameters: {
      id: { type_name: "TYPE_NAME_STRING" },
      allowed: { type_name: "TYPE_NAME_LIST", generic_types: [{ type_name: "TYPE_NAME_STRING" }] },
    },
  },
};
const CONDITION_NAMES = Object.keys(CONDITIONS ?? {});

/** A value of each parameter: valid, or (rarely) of the wrong type. */
function parameterValue(rng: Rng, condition: string, parameter: string, wrongType = false): unknown {
  if (wrongType) return rng.pick([{ nested: true }, [1, 2], "not-a-number", 3.5, true]);
  const values: Record<string, () => unknown> = {
    "eq.s": () => rng.pick(["a", "b"]),
    "eq.expected": () => rng.pick(["a", "b"]),
    "lt.x": () => rng.pick([1, 5, 20, 50]),
    "flag.on": () => rng.chance(0.5),
    "listed.id": () => rng.pick(["u0", "u1", "u2"]),
    "listed.allowed": () => rng.pick([["u0"], ["u1", "u2"], []]),
  };
  return values[`${condition}.${parameter}`]?.() ?? null;
}

/** A context for a conditioned tuple or a request: all, some or none of the parameters. */
function contextFor(rng: Rng, conditions: string[], completeness: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of conditions) {
    for (const parameter of Object.keys(CONDITIONS?.[name]?.parameters ?? {})) {
      if (rng.chance(completeness)) out[parameter] = parameterValue(rng, name, parameter);
    }
  }
  return out;
}

const direct = (): Userset => ({ this: {} });
const computed = (relation: string): Userset => ({ computedUserset: { relation } });
const ttu = (tupleset: string, relation: string): Userset => ({
  tupleToUserset: { tupleset: { relation: tupleset }, computedUserset: { relation } },
});

interface RelationPlan {
  rewrite: Userset;
  types: Restriction[];
}

/** The model's types: group, folder and doc each get relations built from earlier ones. */
function generateTypes(rng: Rng): TypeDefinition[] {
  const plans = new Map<string, Map<string, RelationPlan>>();
  const relationsOf = (type: string) => [...(plans.get(type)?.keys() ?? [])];
  const userRestriction = (): Restriction => {
    const type = rng.chance(0.85) ? "user" : "employee";
    const roll = rng.next();
    const condition = rng.chance(0.3) ? rng.pick(CONDITION_NAMES) : undefined;
    const base: Restriction = roll < 0.25 ? { type, wildcard: {} } : { type };
    return condition ? { ...base, condition } : base;
  };
  const usersetRestriction = (self: string, selfRelation: string): Restriction | undefined => {
    const candidates: Restriction[] = [];
    for (const [type, relations] of plans) {
      for (const relation of relations.keys()) {
        if (relation !== "parent") candidates.push({ type, relation });
      }
    }
    // Recursion through the relation itself (group#member in group#member).
    if (rng.chance(0.3)) candidates.push({ type: self, relation: selfRelation });
    if (candidates.length === 0) return undefined;
    const chosen = rng.pick(candidates);
    return rng.chance(0.15) ? { ...chosen, condition: rng.pick(CONDITION_NAMES) } : chosen;
  };
  const directTypes = (self: string, relation: string): Restriction[] => {
    const out: Restriction[] = [];
    const seen = new Set<string>();
    const add = (r: Restriction | undefined) => {
      if (!r) return;
      const key = `${r.type}#${r.relation ?? ""}${r.wildcard ? ":*" : ""} ${r.condition ?? ""}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(r);
      }
    };
    add(userRestriction());
    for (let i = rng.int(0, 2); i > 0; i--)
      add(rng.chance(0.5) ? userRestriction() : usersetRestriction(self, relation));
    // An object type as a user (group), for list-users filters on a type that also appears as usersets.
    if (self !== "group" && rng.chance(0.15)) add({ type: "group" });
    return out;
  };

  const typeNames = ["group", "folder", "doc"];
  for (const type of typeNames) {
    const relations = new Map<string, RelationPlan>();
    plans.set(type, relations);
    const names = type === "group" ? ["member", "admin", "blocked"] : ["r0", "r1", "r2", "r3"];
    const hasParent = type !== "group";
    // Now and then a doc model in the shape that found list-users contradicting check: parents of the same
    // type, r0 with a wildcard, and later relations excluding earlier ones, directly and through parents.
    if (type === "doc" && rng.chance(0.3)) {
      relations.set("parent", { rewrite: direct(), types: [{ type: "doc" }] });
      relations.set("r0", {
        rewrite: direct(),
        types: [{ type: "user" }, { type: "user", wildcard: {} }, { type: "group", relation: "member" }],
      });
      for (const [index, name] of names.slice(1).entries()) {
        const earlier = names.slice(0, index + 1);
        const operand = () =>
          rng.chance(0.35) ? ttu("parent", rng.pick(earlier)) : computed(rng.pick(earlier));
        const [a, b] = [operand(), operand()];
        const roll = rng.next();
        const rewrite: Userset =
          roll < 0.45
            ? { difference: { base: a, subtract: b } }
            : roll < 0.75
              ? { union: { child: [a, b] } }
              : { intersection: { child: [a, b] } };
        relations.set(name as string, { rewrite, types: [] });
      }
      continue;
    }
    if (hasParent) {
      // The tupleset: objects only (the server refuses usersets and wildcards there), sometimes conditioned.
      const parentTypes: Restriction[] = [{ type: "folder" }];
      if (type === "doc" && rng.chance(0.3)) parentTypes.push({ type: "doc" });
      if (rng.chance(0.25))
        parentTypes.push({ type: parentTypes[0]?.type ?? "folder", condition: rng.pick(CONDITION_NAMES) });
      relations.set("parent", { rewrite: direct(), types: parentTypes });
    }
    for (const [index, name] of names.entries()) {
      const earlier = names.slice(0, index);
      const parentTypes = relations.get("parent")?.types.map((r) => r.type) ?? [];
      const ttuTargets = [
        ...new Set(parentTypes.flatMap((t) => (t === type ? [...earlier, name] : relationsOf(t)))),
      ].filter((r) => r !== "parent");
      const operand = (depth: number): { rewrite: Userset; direct: boolean } => {
        const roll = rng.next();
        if (roll < 0.35 || earlier.length === 0) return { rewrite: direct(), direct: true };
        if (roll < 0.6 || !hasParent || ttuTargets.length === 0)
          return { rewrite: computed(rng.pick(earlier)), direct: false };
        if (roll < 0.85 || depth > 0) return { rewrite: ttu("parent", rng.pick(ttuTargets)), direct: false };
        return { rewrite: computed(rng.pick(earlier)), direct: false };
      };
      const shape = rng.next();
      let rewrite: Userset;
      let assignable: boolean;
      let types: Restriction[] | undefined;
      if (index === 0 || shape < 0.25) {
        rewrite = direct();
        assignable = true;
      } else if (shape > 0.9) {
        // A wildcard meeting an exclusion (base or subtracted side), where list-users and check have
        // disagreed on the server: [user, user:*] but not r, or r but not [user, user:*].
        const other = computed(rng.pick(earlier));
        rewrite = rng.chance(0.6)
          ? { difference: { base: direct(), subtract: other } }
          : { difference: { base: other, subtract: direct() } };
        assignable = true;
        types = [{ type: "user" }, { type: "user", wildcard: {} }];
      } else {
        const a = operand(0);
        let b = operand(0);
        for (let tries = 0; JSON.stringify(a.rewrite) === JSON.stringify(b.rewrite) && tries < 5; tries++)
          b = operand(0);
        const children = [a.rewrite, b.rewrite];
        if (rng.chance(0.2)) children.push(operand(1).rewrite);
        const op = shape < 0.5 ? "union" : shape < 0.7 ? "intersection" : "difference";
        rewrite =
          op === "union"
            ? { union: { child: children } }
            : op === "intersection"
              ? { intersection: { child: children } }
              : { difference: { base: children[0] as Userset, subtract: children[1] as Userset } };
        assignable = JSON.stringify(rewrite).includes('"this"');
      }
      relations.set(name, { rewrite, types: types ?? (assignable ? directTypes(type, name) : []) });
    }
  }
  return [
    ...TERMINALS.map((type) => ({ type })),
    ...typeNames.map((type) => {
      const relations = plans.get(type) ?? new Map();
      return {
        type,
        relations: Object.fromEntries([...relations].map(([name, plan]) => [name, plan.rewrite])),
        metadata: {
          relations: Object.fromEntries(
            [...relations]
              .filter(([, plan]) => plan.types.length > 0)
              .map(([name, plan]) => [name, { directly_related_user_types: plan.types }]),
          ),
        },
      };
    }),
  ];
}

function usedConditions(types: TypeDefinition[]): string[] {
  const used = new Set<string>();
  for (const definition of types) {
    for (const entry of Object.values(definition.metadata?.relations ?? {})) {
      for (const r of entry.directly_related_user_types) if (r.condition) used.add(r.condition);
    }
  }
  return [...used].sort();
}

/** A clone of the model with one defect the server refuses on write. */
export function invalidVariant(rng: Rng, model: ModelBody): { kind: string; body: ModelBody } {
  const body = structuredClone(model);
  const doc = body.type_definitions.find((t) => t.type === "doc") as TypeDefinition;
  const group = body.type_definitions.find((t) => t.type === "group") as TypeDefinition;
  const target = rng.pick([doc, group]);
  target.relations ??= {};
  target.metadata ??= { relations: {} };
  const relations = target.relations;
  const meta = target.metadata.relations;
  const kind = rng.pick([
    "cycle",
    "potential-loop",
    "no-entrypoint",
    "self-reference",
    "types-on-unassignable",
    "assignable-without-types",
    "undeclared-variable",
    "condition-type-error",
    "undefined-relation",
    "undefined-type",
    "tupleset-not-direct",
    "tupleset-userset",
    "undefined-condition",
    "ttu-relation-nowhere",
    "intersection-entrypoint",
  ]);
  switch (kind) {
    case "cycle":
      relations.xa = computed("xb");
      relations.xb = { union: { child: [direct(), computed("xa")] } };
      meta.xb = { directly_related_user_types: [{ type: "user", wildcard: {} }] };
      break;
    case "potential-loop":
      relations.xa = computed("xb");
      relations.xb = { intersection: { child: [computed("xa"), computed("xa")] } };
      break;
    case "no-entrypoint":
      relations.xa = direct();
      meta.xa = { directly_related_user_types: [{ type: target.type, relation: "xa" }] };
      relations.xb = { union: { child: [computed("xa"), computed("xa")] } };
      break;
    case "self-reference":
      relations.xa = { union: { child: [direct(), computed("xa")] } };
      meta.xa = { directly_related_user_types: [{ type: "user" }] };
      break;
    case "types-on-unassignable": {
      const existing = Object.keys(relations).find((r) => r !== "parent") ?? "member";
      relations.xa = computed(existing);
      meta.xa = { directly_related_user_types: [{ type: "user" }] };
      break;
    }
    case "assignable-without-types":
      relations.xa = direct();
      break;
    case "undeclared-variable":
      body.conditions = {
        ...body.conditions,
        bad: {
          name: "bad",
          expression: "y > 1",
          parameters: { x: { type_name: "TYPE_NAME_INT" } },
        },
      };
      break;
    case "condition-type-error":
      body.conditions = {
        ...body.conditions,
        bad: {
          name: "bad",
          expression: rng.pick(['x + "a" == "b"', "x", "x > 1.5"]),
          parameters: { x: { type_name: "TYPE_NAME_INT" } },
        },
      };
      break;
    case "undefined-relation":
      relations.xa = { union: { child: [direct(), computed("nowhere")] } };
      meta.xa = { directly_related_user_types: [{ type: "user" }] };
      break;
    case "undefined-type":
      relations.xa = direct();
      meta.xa = {
        directly_related_user_types: [
          { type: rng.pick(["nobody", "group"]), relation: rng.pick([undefined, "nothing"]) } as Restriction,
        ],
      };
      break;
    case "tupleset-not-direct":
      relations.xa = computed(Object.keys(relations).find((r) => r !== "parent") ?? "member");
      relations.xb = ttu("xa", "member");
      break;
    case "tupleset-userset":
      relations.xa = direct();
      meta.xa = { directly_related_user_types: [{ type: "group", relation: "member" }] };
      relations.xb = ttu("xa", "member");
      break;
    case "undefined-condition":
      relations.xa = direct();
      meta.xa = { directly_related_user_types: [{ type: "user", condition: "nocond" }] };
      break;
    case "ttu-relation-nowhere":
      relations.xa = direct();
      meta.xa = { directly_related_user_types: [{ type: "group" }] };
      relations.xb = ttu("xa", "nowhere");
      break;
    case "intersection-entrypoint":
      relations.xa = direct();
      meta.xa = { directly_related_user_types: [{ type: target.type, relation: "xa" }] };
      relations.xb = { intersection: { child: [computed("xa"), direct()] } };
      meta.xb = { directly_related_user_types: [{ type: "user" }] };
      break;
  }
  return { kind, body };
}

/** A user that a type restriction allows, and the condition it needs. */
function userFor(rng: Rng, r: Restriction): string {
  if (r.wildcard) return `${r.type}:*`;
  if (r.relation) return `${rng.pick(OBJECTS[r.type] ?? [`${r.type}:x`])}#${r.relation}`;
  if (r.type === "user") return rng.pick(USERS);
  if (r.type === "employee") return rng.pick(EMPLOYEES);
  return rng.pick(OBJECTS[r.type] ?? [`${r.type}:x`]);
}

function tupleFromRestriction(rng: Rng, object: string, relation: string, r: Restriction): Tuple | undefined {
  const user = userFor(rng, r);
  if (user === `${object}#${relation}`) return undefined; // implicit: the server refuses to store it
  const tuple: Tuple = { user, relation, object };
  if (r.condition) {
    const roll = rng.next();
    tuple.condition =
      roll < 0.2
        ? { name: r.condition }
        : { name: r.condition, context: contextFor(rng, [r.condition], roll < 0.6 ? 1 : 0.5) };
  }
  return tuple;
}

/** Every (object type, relation, restrictions) of the model that tuples can be written to. */
function assignable(model: ModelBody): { type: string; relation: string; types: Restriction[] }[] {
  const out: { type: string; relation: string; types: Restriction[] }[] = [];
  for (const definition of model.type_definitions) {
    for (const [relation, entry] of Object.entries(definition.metadata?.relations ?? {})) {
      if (entry.directly_related_user_types.length > 0)
        out.push({ type: definition.type, relation, types: entry.directly_related_user_types });
    }
  }
  return out;
}

function generateTuples(rng: Rng, model: ModelBody, count: number): Tuple[] {
  const slots = assignable(model);
  const tuples = new Map<string, Tuple>();
  for (let i = 0; i < count * 3 && tuples.size < count; i++) {
    const slot = rng.pick(slots);
    const tuple = tupleFromRestriction(
      rng,
      rng.pick(OBJECTS[slot.type] ?? []),
      slot.relation,
      rng.pick(slot.types),
    );
    if (tuple) tuples.set(`${tuple.object}#${tuple.relation}@${tuple.user}`, tuple);
  }
  return [...tuples.values()];
}

/** A contextual tuple the server refuses, with what is wrong with it. */
function invalidContextualTuple(rng: Rng, model: ModelBody): { tuple: Tuple; tag: string } {
  const slots = assignable(model);
  const slot = rng.pick(slots);
  const object = rng.pick(OBJECTS[slot.type] ?? []);
  const kind = rng.pick([
    "undefined-condition",
    "condition-not-allowed",
    "wrong-parameter-type",
    "unknown-parameter",
    "missing-condition",
    "type-not-allowed",
    "unknown-type",
    "unknown-relation",
    "malformed-user",
    "tupleset-userset",
  ]);
  const user = userFor(rng, rng.pick(slot.types));
  const conditioned = slot.types.find((r) => r.condition);
  const plain = slot.types.find((r) => !r.condition);
  switch (kind) {
    case "undefined-condition":
      return { tuple: { user, relation: slot.relation, object, condition: { name: "nocond" } }, tag: kind };
    case "condition-not-allowed": {
      const other = CONDITION_NAMES.find((c) => !slot.types.some((r) => r.condition === c)) ?? "eq";
      return {
        tuple: { user, relation: slot.relation, object, condition: { name: other, context: {} } },
        tag: kind,
      };
    }
    case "wrong-parameter-type":
    case "unknown-parameter":
      if (conditioned?.condition) {
        const name = conditioned.condition;
        const parameter = Object.keys(CONDITIONS?.[name]?.parameters ?? {})[0] ?? "x";
        const context =
          kind === "wrong-parameter-type"
            ? { [parameter]: parameterValue(rng, name, parameter, true) }
            : { nope: 1 };
        return {
          tuple: {
            user: userFor(rng, conditioned),
            relation: slot.relation,
            object,
            condition: { name, context },
          },
          tag: kind,
        };
      }
      return {
        tuple: { user, relation: slot.relation, object, condition: { name: "nocond" } },
        tag: "undefined-condition",
      };
    case "missing-condition":
      if (conditioned && !slot.types.some((r) => !r.condition && r.type === conditioned.type)) {
        return { tuple: { user: userFor(rng, conditioned), relation: slot.relation, object }, tag: kind };
      }
      return { tuple: { user: "employee:e9", relation: slot.relation, object }, tag: "type-not-allowed" };
    case "type-not-allowed":
      return {
        tuple: {
          user: rng.pick(["employee:e0", "group:g0#admin", "folder:f0", "user:*", "folder:f1#r0"]),
          relation: slot.relation,
          object,
        },
        tag: kind,
      };
    case "unknown-type":
      return {
        tuple: {
          user: rng.pick(["nobody:n0", user]),
          relation: slot.relation,
          object: rng.pick(["nothing:x", object]),
        },
        tag: kind,
      };
    case "unknown-relation":
      return {
        tuple: {
          user: rng.pick([user, "group:g0#nothing"]),
          relation: rng.pick(["nothing", slot.relation]),
          object,
        },
        tag: kind,
      };
    case "malformed-user":
      return {
        tuple: { user: rng.pick(["u1", "user:", ":u1", "user:u1#"]), relation: slot.relation, object },
        tag: kind,
      };
    case "tupleset-userset":
      return {
        tuple: {
          user: rng.pick(["folder:f0#r0", "folder:*"]),
          relation: "parent",
          object: rng.pick(OBJECTS.doc ?? []),
        },
        tag: kind,
      };
  }
  return {
    tuple: { user: plain ? userFor(rng, plain) : user, relation: "nothing", object },
    tag: "unknown-relation",
  };
}

/** Contextual tuples for one request: usually none; sometimes valid, implicit or invalid ones. */
function contextualTuples(rng: Rng, model: ModelBody, tags: string[]): Tuple[] {
  const roll = rng.next();
  if (roll < 0.55) return [];
  const valid = generateTuples(rng, model, rng.int(1, 3));
  if (roll < 0.8) {
    tags.push("contextual");
    return valid;
  }
  if (roll < 0.88) {
    // An implicit tuple (a userset holding itself): written, it is refused; contextual, it is accepted.
    const self = assignable(model).flatMap((slot) =>
      slot.types
        .filter((r) => r.type === slot.type && r.relation === slot.relation && !r.condition)
        .map(() => slot),
    );
    if (self.length > 0) {
      const slot = rng.pick(self);
      const object = rng.pick(OBJECTS[slot.type] ?? []);
      tags.push("implicit-contextual");
      return [...valid, { user: `${object}#${slot.relation}`, relation: slot.relation, object }];
    }
  }
  const invalid = invalidContextualTuple(rng, model);
  tags.push(`invalid-contextual:${invalid.tag}`);
  const position = rng.int(0, valid.length);
  return [...valid.slice(0, position), invalid.tuple, ...valid.slice(position)];
}

function requestContext(rng: Rng, conditions: string[], tags: string[]): Record<string, unknown> | undefined {
  const roll = rng.next();
  if (roll < 0.4 || conditions.length === 0) return undefined;
  if (roll < 0.9) {
    tags.push(roll < 0.7 ? "context" : "partial-context");
    return contextFor(rng, conditions, roll < 0.7 ? 1 : 0.5);
  }
  tags.push("mistyped-context");
  const name = rng.pick(conditions);
  const parameter = Object.keys(CONDITIONS?.[name]?.parameters ?? {})[0] ?? "x";
  return { ...contextFor(rng, conditions, 1), [parameter]: parameterValue(rng, name, parameter, true) };
}

/** A user for a request: objects, wildcards and usersets of every type, some the model cannot relate. */
function requestUser(rng: Rng, model: ModelBody, tags: string[]): string {
  const roll = rng.next();
  if (roll < 0.45) return rng.pick(USERS);
  if (roll < 0.52) {
    tags.push("other-user-type");
    return rng.pick(EMPLOYEES);
  }
  if (roll < 0.6) {
    tags.push("wildcard-user");
    return rng.pick(["user:*", "employee:*"]);
  }
  if (roll < 0.68) {
    tags.push("object-user");
    return rng.pick([...(OBJECTS.group ?? []), ...(OBJECTS.folder ?? [])]);
  }
  tags.push("userset-user");
  const definition = rng.pick(
    model.type_definitions.filter((t) => Object.keys(t.relations ?? {}).length > 0),
  );
  const relation = rng.pick(Object.keys(definition.relations ?? {}));
  return `${rng.pick(OBJECTS[definition.type] ?? [])}#${relation}`;
}

function queryTarget(rng: Rng, model: ModelBody): { type: string; relation: string } {
  const definition = rng.pick(
    model.type_definitions.filter((t) => Object.keys(t.relations ?? {}).length > 0),
  );
  return { type: definition.type, relation: rng.pick(Object.keys(definition.relations ?? {})) };
}

function checkItem(rng: Rng, model: ModelBody, conditions: string[], tags: string[]) {
  const { type, relation } = queryTarget(rng, model);
  const item: Record<string, unknown> = {
    tuple_key: { user: requestUser(rng, model, tags), relation, object: rng.pick(OBJECTS[type] ?? []) },
  };
  const contextual = contextualTuples(rng, model, tags);
  if (contextual.length > 0) item.contextual_tuples = { tuple_keys: contextual };
  const context = requestContext(rng, conditions, tags);
  if (context) item.context = context;
  return item;
}

function generateQueries(rng: Rng, model: ModelBody): Query[] {
  const conditions = usedConditions(model.type_definitions);
  const queries: Query[] = [];
  for (let i = 0; i < 60; i++) {
    const tags: string[] = [];
    queries.push({ endpoint: "check", body: checkItem(rng, model, conditions, tags), tags });
  }
  for (let i = 0; i < 6; i++) {
    const tags: string[] = [];
    const checks = Array.from({ length: rng.int(2, 6) }, (_, n) => ({
      ...checkItem(rng, model, conditions, tags),
      correlation_id: `c${n}`,
    }));
    queries.push({ endpoint: "batch-check", body: { checks }, tags: [...new Set(tags)] });
  }
  for (let i = 0; i < 30; i++) {
    const tags: string[] = [];
    let { type, relation } = queryTarget(rng, model);
    if (rng.chance(0.04)) {
      tags.push("unknown-type");
      type = "nothing";
    }
    const body: Record<string, unknown> = { type, relation, user: requestUser(rng, model, tags) };
    const contextual = contextualTuples(rng, model, tags);
    if (contextual.length > 0) body.contextual_tuples = { tuple_keys: contextual };
    const context = requestContext(rng, conditions, tags);
    if (context) body.context = context;
    queries.push({ endpoint: "list-objects", body, tags });
  }
  for (let i = 0; i < 30; i++) {
    const tags: string[] = [];
    const { type, relation } = queryTarget(rng, model);
    const object = rng.pick(OBJECTS[type] ?? []);
    const filterRoll = rng.next();
    let filter: { type: string; relation?: string };
    if (filterRoll < 0.45) filter = { type: rng.chance(0.85) ? "user" : "employee" };
    else if (filterRoll < 0.55) filter = { type: rng.pick(["group", "folder"]) };
    else if (filterRoll < 0.97) {
      tags.push("userset-filter");
      const usersetTarget = rng.chance(0.3) ? { type, relation } : queryTarget(rng, model);
      filter = usersetTarget;
    } else {
      tags.push("unknown-filter");
      filter = rng.pick([{ type: "nothing" }, { type: "group", relation: "nothing" }]);
    }
    const body: Record<string, unknown> = {
      object: { type, id: object.slice(object.indexOf(":") + 1) },
      relation,
      user_filters: [filter],
    };
    const contextual = contextualTuples(rng, model, tags);
    if (contextual.length > 0) body.contextual_tuples = contextual;
    const context = requestContext(rng, conditions, tags);
    if (context) body.context = context;
    queries.push({ endpoint: "list-users", body, tags });
  }
  // Writes that must fail the same way; last, so a write one side accepts cannot change later answers.
  for (let i = 0; i < 3; i++) {
    const tags: string[] = [];
    let tuple: Tuple;
    if (rng.chance(0.3)) {
      const slot = rng.pick(assignable(model));
      const object = rng.pick(OBJECTS[slot.type] ?? []);
      tuple = { user: `${object}#${slot.relation}`, relation: slot.relation, object };
      tags.push("implicit-write");
    } else {
      const invalid = invalidContextualTuple(rng, model);
      tuple = invalid.tuple;
      tags.push(`invalid-write:${invalid.tag}`);
    }
    // Sometimes next to a valid tuple written twice, or a malformed delete: the server reports the
    // model's rules first, then deleted users, then duplicates.
    const valid = generateTuples(rng, model, 1);
    const roll = rng.next();
    const body =
      roll < 0.15 && valid[0]
        ? { writes: { tuple_keys: [valid[0], tuple, valid[0]] } }
        : roll < 0.25
          ? { writes: { tuple_keys: [tuple] }, deletes: { tuple_keys: [{ ...tuple, user: "not a user" }] } }
          : roll < 0.3
            ? {}
            : { writes: { tuple_keys: [tuple] } };
    queries.push({ endpoint: "write", body, tags });
  }
  return queries;
}

/** The scenario of one seed. */
export function generateScenario(seed: number): Scenario {
  const rng = random(seed);
  const types = generateTypes(rng);
  const used = usedConditions(types);
  const conditions = Object.fromEntries(
    CONDITION_NAMES.filter((c) => used.includes(c) || rng.chance(0.1)).map((c) => [c, CONDITIONS?.[c]]),
  );
  const model: ModelBody = {
    schema_version: "1.1",
    type_definitions: types,
    conditions: conditions as ModelBody["conditions"],
  };
  const invalidModels = Array.from({ length: rng.chance(0.6) ? rng.int(1, 2) : 0 }, () =>
    invalidVariant(rng, model),
  );
  return {
    seed,
    model,
    invalidModels,
    tuples: generateTuples(rng, model, rng.int(12, 30)),
    queries: generateQueries(rng, model),
  };
}
