// The checks the real server runs when a model is written, in its order and with its messages (OpenFGA
// v1.18.1, typesystem.NewAndValidate). @openfga/syntax-transformer's validator is a linter for the DSL: it
// misses some of these (entry points, potential loops, undeclared condition variables), reports others the
// server accepts, and crashes on some valid models, so the double does not use it.
import { ConditionCompileError, compileCondition } from "./cel-conditions.js";
import { FgaServerError } from "./errors.js";
import type { AuthorizationModel, RelationReference, TypeDefinition, Userset } from "./model.js";

/** The limit on type definitions per model (the server's default). */
const MAX_TYPES_PER_MODEL = 100;

const invalidModel = (message: string) => new FgaServerError(400, "invalid_authorization_model", message);

/** A relation as the server's typesystem holds it: its rewrite and its type restrictions. */
interface Relation {
  rewrite: Userset;
  types: readonly RelationReference[];
}

/** An invalid relation, worded as the server words it. */
const invalidRelation = (type: string, relation: string, cause: string) =>
  `the definition of relation '${relation}' in object type '${type}' is invalid: ${cause}`;
const INVALID_REWRITE = "invalid userset rewrite definition";
const relationUndefined = (type: string, relation: string) => `'${type}#${relation}' relation is undefined`;
const invalidRelationType = (type: string, relation: string, relatedType: string, relatedRelation?: string) =>
  `the relation type '${relatedRelation ? `${relatedType}#${relatedRelation}` : relatedType}' on '${relation}' in object type '${type}' is not valid`;

/** The user set of a rewrite, or undefined when the rewrite names none (the server's nil userset). */
function kindOf(rewrite: Userset | undefined): keyof Userset | undefined {
  if (!rewrite) return undefined;
  for (const key of [
    "this",
    "computedUserset",
    "tupleToUserset",
    "union",
    "intersection",
    "difference",
  ] as const) {
    if (rewrite[key] !== undefined && rewrite[key] !== null) return key;
  }
  return undefined;
}

const childrenOf = (rewrite: Userset): Userset[] =>
  rewrite.union?.child ??
  rewrite.intersection?.child ??
  (rewrite.difference ? [rewrite.difference.base, rewrite.difference.subtract] : []);

/** Whether the rewrite assigns directly anywhere (the server's RewriteContainsSelf). */
function containsThis(rewrite: Userset): boolean {
  if (kindOf(rewrite) === "this") return true;
  return childrenOf(rewrite).some(containsThis);
}

const isWildcard = (r: RelationReference) => r.wildcard !== undefined && r.wildcard !== null;
const hasRelation = (r: RelationReference) => Boolean(r.relation);

/**
 * The server's model of a model: types by name, relations by type and name. Built the way the server
 * builds it, so a duplicated type or relation resolves as it does there (the last one wins).
 */
class TypeSystem {
  readonly relations = new Map<string, Map<string, Relation>>();
  readonly conditions: Set<string>;

  constructor(readonly model: AuthorizationModel) {
    for (const definition of model.type_definitions ?? []) {
      const relations = new Map<string, Relation>();
      for (const [name, rewrite] of Object.entries(definition.relations ?? {})) {
        relations.set(name, {
          rewrite: rewrite ?? {},
          types: definition.metadata?.relations?.[name]?.directly_related_user_types ?? [],
        });
      }
      this.relations.set(definition.type, relations);
    }
    this.conditions = new Set(Object.keys(model.conditions ?? {}));
  }

  relation(type: string, relation: string): Relation | undefined {
    return this.relations.get(type)?.get(relation);
  }

  /** Whether `relation` is the tupleset of some tuple-to-userset of `type`. */
  isTupleset(type: string, relation: string): boolean {
    const walk = (rewrite: Userset): boolean =>
      rewrite.tupleToUserset
        ? rewrite.tupleToUserset.tupleset.relation === relation
        : childrenOf(rewrite).some(walk);
    return [...(this.relations.get(type)?.values() ?? [])].some((r) => walk(r.rewrite));
  }
}

/** Each rewrite names relations that exist, and a tupleset is a direct relation of object types. */
function checkRewrite(ts: TypeSystem, type: string, relation: string, rewrite: Userset): string | undefined {
  const kind = kindOf(rewrite);
  if (!kind) return invalidRelation(type, relation, INVALID_REWRITE);
  if (kind === "computedUserset") {
    const computed = rewrite.computedUserset?.relation ?? "";
    if (computed === relation) return invalidRelation(type, relation, INVALID_REWRITE);
    if (!ts.relation(type, computed)) return relationUndefined(type, computed);
    return undefined;
  }
  if (kind === "tupleToUserset") {
    const tupleset = rewrite.tupleToUserset?.tupleset.relation ?? "";
    const tuplesetRelation = ts.relation(type, tupleset);
    if (!tuplesetRelation) return relationUndefined(type, tupleset);
    if (kindOf(tuplesetRelation.rewrite) !== "this") {
      return `the '${type}#${tupleset}' relation is referenced in at least one tupleset and thus must be a direct relation`;
    }
    const computed = rewrite.tupleToUserset?.computedUserset.relation ?? "";
    if (tuplesetRelation.types.some((r) => ts.relation(r.type, computed))) return undefined;
    // The server prints its type restrictions in Go's protobuf text form; this is close to it.
    const listed = tuplesetRelation.types.map((r) => `type:"${r.type}"`).join(" ");
    return `undefined relation: ${computed} does not appear as a relation in any of the directly related user types [${listed}]`;
  }
  for (const child of childrenOf(rewrite)) {
    const problem = checkRewrite(ts, type, relation, child);
    if (problem) return problem;
  }
  return undefined;
}

/** A relation is assignable exactly when it has type restrictions, and each names what exists. */
function checkTypeRestrictions(ts: TypeSystem, type: string, relationName: string): string | undefined {
  const relation = ts.relation(type, relationName) as Relation;
  const assignable = containsThis(relation.rewrite);
  if (assignable && relation.types.length === 0) {
    return `the assignable relation '${relationName}' in object type '${type}' must contain at least one relation type`;
  }
  if (!assignable && relation.types.length > 0) {
    return `the non-assignable relation '${relationName}' in object type '${type}' should not contain a relation type`;
  }
  for (const related of relation.types) {
    if (!ts.relations.has(related.type))
      return invalidRelationType(type, relationName, related.type, related.relation);
    if (hasRelation(related) || isWildcard(related)) {
      // A tupleset holds objects only: no usersets, no wildcards.
      if (ts.isTupleset(type, relationName))
        return invalidRelationType(type, relationName, related.type, related.relation);
      if (hasRelation(related) && !ts.relation(related.type, related.relation ?? "")) {
        return invalidRelationType(type, relationName, related.type, related.relation);
      }
    }
    if (related.condition && !ts.conditions.has(related.condition)) {
      return `condition ${related.condition} is undefined for relation ${relationName}`;
    }
  }
  return undefined;
}

/**
 * Visited relations of the entry-point search: type → relation → whether it has an entry point. Cloned the
 * way the server clones it (the outer map copied, the inner maps shared), because which relations count
 * as visited on each path decides between "no entrypoints" and "potential loop".
 */
type Visited = Map<string, Map<string, boolean>>;

class EntrypointError extends Error {}

/**
 * Whether some path through `rewrite` reaches a concrete type or a wildcard (an entry point), and whether
 * the search came back to a relation it was already resolving (a loop). The server's hasEntrypoints.
 */
function hasEntrypoints(
  ts: TypeSystem,
  type: string,
  relationName: string,
  rewrite: Userset,
  visited: Visited,
): { entry: boolean; loop: boolean } {
  const v: Visited = new Map(visited);
  const existing = v.get(type);
  if (existing) existing.set(relationName, false);
  else v.set(type, new Map([[relationName, false]]));
  const relation = ts.relation(type, relationName);
  if (!relation) throw new EntrypointError(`undefined type definition for '${type}#${relationName}'`);
  const kind = kindOf(rewrite);
  if (kind === "this") {
    for (const assignable of relation.types) {
      if ((!hasRelation(assignable) && !isWildcard(assignable)) || isWildcard(assignable)) {
        v.get(type)?.set(relationName, true);
        return { entry: true, loop: false };
      }
      const assignableRelation = ts.relation(assignable.type, assignable.relation ?? "");
      if (!assignableRelation) {
        throw new EntrypointError(
          `undefined type definition for '${assignable.type}#${assignable.relation}'`,
        );
      }
      if (v.get(assignable.type)?.has(assignable.relation ?? "")) continue;
      const { entry } = hasEntrypoints(
        ts,
        assignable.type,
        assignable.relation ?? "",
        assignableRelation.rewrite,
        v,
      );
      if (entry) return { entry: true, loop: false };
    }
    return { entry: false, loop: false };
  }
  if (kind === "computedUserset") {
    const computed = rewrite.computedUserset?.relation ?? "";
    const computedRelation = ts.relation(type, computed);
    if (!computedRelation) throw new EntrypointError(`undefined type definition for '${type}#${computed}'`);
    const known = v.get(type)?.get(computed);
    if (known !== undefined) return { entry: known, loop: true };
    return hasEntrypoints(ts, type, computed, computedRelation.rewrite, v);
  }
  if (kind === "tupleToUserset") {
    const tupleset = rewrite.tupleToUserset?.tupleset.relation ?? "";
    const computed = rewrite.tupleToUserset?.computedUserset.relation ?? "";
    const tuplesetRelation = ts.relation(type, tupleset);
    if (!tuplesetRelation) throw new EntrypointError(`undefined type definition for '${type}#${tupleset}'`);
    for (const assignable of tuplesetRelation.types) {
      const target = ts.relation(assignable.type, computed);
      if (!target) continue;
      const known = v.get(assignable.type)?.get(computed);
      if (known !== undefined) {
        if (known) return { entry: true, loop: false };
        continue;
      }
      if (hasEntrypoints(ts, assignable.type, computed, target.rewrite, v).entry)
        return { entry: true, loop: false };
    }
    return { entry: false, loop: false };
  }
  const children = childrenOf(rewrite);
  if (kind === "union") {
    if (children.length < 2) {
      throw new EntrypointError(
        `invalid relation: '${type}#${relationName}' as union has less than 2 children`,
      );
    }
    let loop = false;
    // Children see the caller's visited relations, not this call's copy (as on the server).
    for (const child of children) {
      const result = hasEntrypoints(ts, type, relationName, child, visited);
      if (result.entry) return { entry: true, loop: false };
      loop ||= result.loop;
    }
    return { entry: false, loop };
  }
  if (kind === "intersection" && children.length < 2) {
    throw new EntrypointError(
      `invalid relation: '${type}#${relationName}' as intersection has less than 2 children`,
    );
  }
  // Intersection and exclusion: every operand needs an entry point.
  for (const child of children) {
    const result = hasEntrypoints(ts, type, relationName, child, visited);
    if (!result.entry) return { entry: false, loop: result.loop };
  }
  return { entry: true, loop: false };
}

/** Whether resolving type#relation through computed relations comes back to itself. The server's hasCycle. */
function hasCycle(
  ts: TypeSystem,
  type: string,
  relation: string,
  rewrite: Userset,
  visited: Set<string>,
): boolean {
  visited.add(`${type}#${relation}`);
  const copy = new Set(visited);
  const kind = kindOf(rewrite);
  if (kind === "this" || kind === "tupleToUserset") return false;
  if (kind === "computedUserset") {
    const computed = rewrite.computedUserset?.relation ?? "";
    if (visited.has(`${type}#${computed}`)) return true;
    const target = ts.relation(type, computed);
    return target ? hasCycle(ts, type, computed, target.rewrite, copy) : false;
  }
  return childrenOf(rewrite).some((child) => hasCycle(ts, type, relation, child, copy));
}

function checkRelation(ts: TypeSystem, type: string, relationName: string): string | undefined {
  const relation = ts.relation(type, relationName) as Relation;
  const problem =
    checkRewrite(ts, type, relationName, relation.rewrite) ?? checkTypeRestrictions(ts, type, relationName);
  if (problem) return problem;
  let result: { entry: boolean; loop: boolean };
  try {
    result = hasEntrypoints(ts, type, relationName, relation.rewrite, new Map());
  } catch (error) {
    if (error instanceof EntrypointError) return error.message;
    throw error;
  }
  if (!result.entry)
    return invalidRelation(type, relationName, result.loop ? "potential loop" : "no entrypoints defined");
  if (hasCycle(ts, type, relationName, relation.rewrite, new Set())) {
    return invalidRelation(type, relationName, "an authorization model cannot contain a cycle");
  }
  return undefined;
}

/** Checks a model sent to the write endpoint as the server does; throws the server's error. */
export function validateModel(json: AuthorizationModel): void {
  const definitions: TypeDefinition[] = json.type_definitions ?? [];
  if (definitions.length > MAX_TYPES_PER_MODEL) {
    throw new FgaServerError(
      400,
      "exceeded_entity_limit",
      `The number of type definitions in an authorization model exceeds the allowed limit of ${MAX_TYPES_PER_MODEL}`,
    );
  }
  if (json.schema_version !== "1.1" && json.schema_version !== "1.2")
    throw invalidModel("invalid schema version");
  const seen = new Set<string>();
  for (const definition of definitions) {
    if (seen.has(definition.type))
      throw invalidModel("an authorization model cannot contain duplicate types");
    seen.add(definition.type);
  }
  for (const definition of definitions) {
    if (definition.type === "")
      throw invalidModel("the type name of a type definition cannot be an empty string");
    if (definition.type === "self" || definition.type === "this") {
      throw invalidModel(`the definition of type '${definition.type}' is invalid`);
    }
    for (const relation of Object.keys(definition.relations ?? {})) {
      if (relation === "") {
        throw invalidModel(`type '${definition.type}' defines a relation with an empty string for a name`);
      }
      if (relation === "self" || relation === "this") {
        throw invalidModel(invalidRelation(definition.type, relation, "self and this are reserved keywords"));
      }
    }
  }
  const ts = new TypeSystem(json);
  // Sorted, as the server walks them, so the first problem reported is the server's.
  for (const type of [...ts.relations.keys()].sort()) {
    for (const relation of [...(ts.relations.get(type)?.keys() ?? [])].sort()) {
      const problem = checkRelation(ts, type, relation);
      if (problem) throw invalidModel(problem);
    }
  }
  for (const [name, definition] of Object.entries(json.conditions ?? {})) {
    if (definition.name !== name) {
      throw invalidModel(`condition key '${name}' does not match condition name '${definition.name}'`);
    }
    try {
      compileCondition({ ...definition, name });
    } catch (error) {
      if (error instanceof ConditionCompileError) throw invalidModel(error.message);
      throw error;
    }
  }
}
