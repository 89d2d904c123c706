import {
  type CompiledCondition,
  type ConditionDefinition,
  ConditionEvaluationError,
  compileCondition,
  validateConditionContext,
} from "./cel-conditions.js";
import {
  isTypedWildcard,
  isValidObject,
  isValidRelation,
  isValidUser,
  isValidUserset,
  splitObjectRelation,
  type TupleKey,
  typeOf,
} from "./tuples.js";
import { WeightedGraph } from "./weighted-graph.js";

/** A type restriction on a directly related user: `user`, `user:*`, `group#member`, `user with cond`. */
export interface RelationReference {
  type: string;
  relation?: string;
  wildcard?: object;
  condition?: string;
}

/** A relation's rewrite, as the API carries it. */
export interface Userset {
  this?: object;
  computedUserset?: { object?: string; relation?: string };
  tupleToUserset?: { tupleset: { relation?: string }; computedUserset: { relation?: string } };
  union?: { child: Userset[] };
  intersection?: { child: Userset[] };
  difference?: { base: Userset; subtract: Userset };
}

export interface TypeDefinition {
  type: string;
  relations?: Record<string, Userset> | null;
  metadata?: {
    relations?: Record<string, { directly_related_user_types?: RelationReference[] | null } | null> | null;
  } | null;
}

/** An authorization model in the API's JSON form. */
export interface AuthorizationModel {
  id: string;
  schema_version: string;
  type_definitions: TypeDefinition[];
  conditions?: Record<string, ConditionDefinition> | null;
}

/** A model ready for evaluation: lookups by type and relation, conditions compiled once. */
export class CompiledModel {
  private readonly types = new Map<string, TypeDefinition>();
  private readonly conditions = new Map<string, CompiledCondition>();

  constructor(readonly json: AuthorizationModel) {
    for (const definition of json.type_definitions) this.types.set(definition.type, definition);
    for (const [name, definition] of Object.entries(json.conditions ?? {})) {
      this.conditions.set(name, compileCondition({ ...definition, name }));
    }
  }

  get id(): string {
    return this.json.id;
  }

  hasType(type: string): boolean {
    return this.types.has(type);
  }

  rewrite(type: string, relation: string): Userset | undefined {
    return this.types.get(type)?.relations?.[relation] ?? undefined;
  }

  directTypes(type: string, relation: string): readonly RelationReference[] {
    return this.types.get(type)?.metadata?.relations?.[relation]?.directly_related_user_types ?? [];
  }

  condition(name: string): CompiledCondition | undefined {
    return this.conditions.get(name);
  }

  conditionDefinition(name: string): ConditionDefinition | undefined {
    const definition = this.json.conditions?.[name];
    return definition ? { ...definition, name } : undefined;
  }

  relationNames(type: string): string[] {
    return Object.keys(this.types.get(type)?.relations ?? {});
  }

  /** Whether `relation` is the tupleset of some tuple-to-userset of `type`. */
  isTupleset(type: string, relation: string): boolean {
    let found = this.tuplesets.get(type);
    if (!found) {
      found = new Set();
      const walk = (rewrite: Userset | undefined): void => {
        if (!rewrite) return;
        if (rewrite.tupleToUserset) found?.add(rewrite.tupleToUserset.tupleset.relation ?? "");
        for (const child of rewrite.union?.child ?? rewrite.intersection?.child ?? []) walk(child);
        if (rewrite.difference) {
          walk(rewrite.difference.base);
          walk(rewrite.difference.subtract);
        }
      };
      for (const rewrite of Object.values(this.types.get(type)?.relations ?? {})) walk(rewrite ?? undefined);
      this.tuplesets.set(type, found);
    }
    return found.has(relation);
  }
  private readonly tuplesets = new Map<string, Set<string>>();

  /** Whether type#relation allows `userType` (no relation), `userType#userRelation`, as the server's IsDirectlyRelated. */
  isDirectlyRelated(type: string, relation: string, userType: string, userRelation: string): boolean {
    return this.directTypes(type, relation).some(
      (r) =>
        r.type === userType &&
        (userRelation
          ? r.relation === userRelation
          : !r.relation && (r.wildcard === undefined || r.wildcard === null)),
    );
  }

  /** Whether type#relation allows `userType:*`. */
  isPubliclyAssignable(type: string, relation: string, userType: string): boolean {
    return this.directTypes(type, relation).some(
      (r) => r.type === userType && r.wildcard !== undefined && r.wildcard !== null,
    );
  }

  /** Why the user, object or relation of `tuple` is unusable, as the server's ValidateUserObjectRelation says. */
  userObjectRelationProblem(tuple: Pick<TupleKey, "object" | "relation" | "user">): string | undefined {
    return (
      this.userProblem(tuple.user) ??
      this.objectProblem(tuple.object) ??
      this.relationProblem(tuple.object, tuple.relation)
    );
  }

  /** Why an object and relation are unusable (the server's ValidateObject, then ValidateRelation). */
  objectRelationProblem(object: string, relation: string): string | undefined {
    return this.objectProblem(object) ?? this.relationProblem(object, relation);
  }

  /** Why `user` is not a user of this model (the server's ValidateUser), or undefined. */
  userProblem(user: string): string | undefined {
    if (!isValidUser(user)) return "the 'user' field is malformed";
    const userset = isValidUserset(user);
    if (!isValidObject(user) && !userset) {
      return "the 'user' field must be an object (e.g. document:1) or an 'object#relation' or a typed wildcard (e.g. group:*)";
    }
    const [userObject, userRelation] = splitObjectRelation(user);
    const type = typeOf(userObject);
    if (!this.hasType(type)) return `type '${type}' not found`;
    if (userset && !this.rewrite(type, userRelation)) return `relation '${type}#${userRelation}' not found`;
    return undefined;
  }

  private objectProblem(object: string): string | undefined {
    if (!isValidObject(object)) return "invalid 'object' field format";
    if (object.slice(object.indexOf(":") + 1) === "*")
      return "the 'object' field cannot reference a typed wildcard";
    if (!this.hasType(typeOf(object))) return `type '${typeOf(object)}' not found`;
    return undefined;
  }

  private relationProblem(object: string, relation: string): string | undefined {
    if (!isValidRelation(relation)) return "the 'relation' field is malformed";
    const type = typeOf(object);
    if (!this.hasType(type)) return `type '${type}' not found`;
    if (!this.rewrite(type, relation)) return `relation '${type}#${relation}' not found`;
    return undefined;
  }

  /**
   * Why `tuple` cannot be written (or sent as a contextual tuple), as the server's ValidateTupleForWrite
   * says: "invalid" problems are the server's InvalidTupleError, "conditional" ones its
   * InvalidConditionalTupleError; the endpoints report the two with different codes.
   */
  tupleProblemForWrite(tuple: TupleKey): TupleProblem | undefined {
    const cause = this.userObjectRelationProblem(tuple);
    if (cause) return { kind: "invalid", cause };
    return this.tupleProblemForRead(tuple);
  }

  /** Why a tuple of object#relation is not valid under this model (the server's ValidateTupleForRead). */
  tupleProblemForRead(tuple: TupleKey): TupleProblem | undefined {
    const type = typeOf(tuple.object);
    const relation = tuple.relation;
    if (!this.rewrite(type, relation))
      return { kind: "invalid", cause: `relation '${type}#${relation}' not found` };
    if (this.isTupleset(type, relation)) {
      if (!this.rewrite(type, relation)?.this) {
        return {
          kind: "invalid",
          cause: `unexpected rewrite encountered with tupleset relation '${type}#${relation}'`,
        };
      }
      if (tuple.user === "*" || isTypedWildcard(tuple.user)) {
        return {
          kind: "invalid",
          cause: `unexpected wildcard relationship with tupleset relation '${type}#${relation}'`,
        };
      }
      if (!isValidObject(tuple.user)) {
        return {
          kind: "invalid",
          cause: `unexpected user '${tuple.user}' with tupleset relation '${type}#${relation}'`,
        };
      }
    }
    const restrictionProblem = this.typeRestrictionProblem(tuple);
    if (restrictionProblem) return { kind: "invalid", cause: restrictionProblem };
    const conditionProblem = this.conditionProblem(tuple);
    if (conditionProblem) return { kind: "conditional", cause: conditionProblem };
    return undefined;
  }

  /** Whether the server reads `tuple` at all: tuples the model does not allow (say, written under an older model) are skipped. */
  isReadable(tuple: TupleKey): boolean {
    let readable = this.readable.get(tuple);
    if (readable === undefined) {
      readable = this.tupleProblemForRead(tuple) === undefined;
      this.readable.set(tuple, readable);
    }
    return readable;
  }
  private readonly readable = new WeakMap<TupleKey, boolean>();

  private typeRestrictionProblem(tuple: TupleKey): string | undefined {
    const type = typeOf(tuple.object);
    const [userObject, userRelation] = splitObjectRelation(tuple.user);
    const userType = typeOf(userObject);
    const allowed = this.directTypes(type, tuple.relation);
    const isWildcard = (r: RelationReference) => r.wildcard !== undefined && r.wildcard !== null;
    if (isValidUserset(tuple.user)) {
      if (allowed.some((r) => r.type === userType && (r.relation ?? "") === userRelation)) return undefined;
      return `'${userType}#${userRelation}' is not an allowed type restriction for '${type}#${tuple.relation}'`;
    }
    if (isTypedWildcard(tuple.user)) {
      if (allowed.some((r) => r.type === userType && isWildcard(r))) return undefined;
      return `the typed wildcard '${tuple.user}' is not an allowed type restriction for '${type}#${tuple.relation}'`;
    }
    if (allowed.some((r) => r.type === userType && !isWildcard(r) && !r.relation)) return undefined;
    return `type '${userType}' is not an allowed type restriction for '${type}#${tuple.relation}'`;
  }

  /**
   * The condition rules, checked after the type restrictions. The server checks the condition's name
   * against the restrictions of the user's type only, not against the restriction that matched: so
   * `user:*` with condition c is accepted when the relation allows `user:*` and `user with c`, and is
   * evaluated with c. The double mirrors that.
   */
  private conditionProblem(tuple: TupleKey): string | undefined {
    const type = typeOf(tuple.object);
    const userType = typeOf(tuple.user);
    const [, userRelation] = splitObjectRelation(tuple.user);
    const restrictions = this.directTypes(type, tuple.relation);
    const isWildcard = (r: RelationReference) => r.wildcard !== undefined && r.wildcard !== null;
    if (!tuple.condition) {
      const plain = restrictions.some((r) => {
        if (r.condition || r.type !== userType) return false;
        if (r.relation || isWildcard(r)) {
          if (r.relation && r.relation !== userRelation) return false;
          if (isWildcard(r) && !isTypedWildcard(tuple.user)) return false;
          return true;
        }
        return !isTypedWildcard(tuple.user);
      });
      return plain ? undefined : "condition is missing";
    }
    const name = tuple.condition.name ?? "";
    if (!this.conditions.has(name)) return "undefined condition";
    if (!restrictions.some((r) => r.type === userType && r.condition === name)) {
      return "invalid condition for type restriction";
    }
    const definition = this.conditionDefinition(name);
    if (!definition) return undefined;
    try {
      validateConditionContext(definition, tuple.condition.context ?? undefined);
    } catch (error) {
      if (error instanceof ConditionEvaluationError) return error.message;
      throw error;
    }
    return undefined;
  }

  /**
   * Whether the model's type graph has a path from `user` (its type, `type:*` or `type#relation`) to
   * objectType#relation: the server answers false without reading a tuple when there is none.
   */
  pathExists(user: string, relation: string, objectType: string): boolean {
    const [userObject, userRelation] = splitObjectRelation(user);
    const userType = typeOf(userObject);
    const to = `${objectType}#${relation}`;
    if (userRelation) return this.graph().reaches(`${userType}#${userRelation}`, to);
    return this.graph().reaches(userType, to) || this.graph().reaches(`${userType}:*`, to);
  }

  /** The server's weighted graph of this model, or undefined where the server builds none. */
  weightedGraph(): WeightedGraph | undefined {
    if (this.weighted === null) this.weighted = WeightedGraph.build(this.json);
    return this.weighted;
  }
  private weighted: WeightedGraph | undefined | null = null;

  /** The model's type graph, built once. */
  graph(): TypeGraph {
    this.typeGraph ??= new TypeGraph(this);
    return this.typeGraph;
  }
  private typeGraph: TypeGraph | undefined;
}

/** A problem with a tuple: the server's InvalidTupleError ("invalid") or InvalidConditionalTupleError ("conditional"). */
export interface TupleProblem {
  kind: "invalid" | "conditional";
  cause: string;
}

/**
 * The model as a graph of types, wildcards and relations, edges pointing from what can be assigned to what
 * it grants (OpenFGA's language graph): a type restriction, a computed relation and each possible parent of
 * a tuple-to-userset are edges; set operators pass every operand through.
 */
export class TypeGraph {
  private readonly sources = new Map<string, Set<string>>();
  private readonly reachable = new Map<string, Set<string>>();

  constructor(model: CompiledModel) {
    for (const definition of model.json.type_definitions) {
      for (const [relation, rewrite] of Object.entries(definition.relations ?? {})) {
        const into = new Set<string>();
        const walk = (node: Userset | undefined | null): void => {
          if (!node) return;
          if (node.this) {
            for (const r of model.directTypes(definition.type, relation)) {
              into.add(r.relation ? `${r.type}#${r.relation}` : r.wildcard ? `${r.type}:*` : r.type);
            }
          } else if (node.computedUserset) {
            into.add(`${definition.type}#${node.computedUserset.relation ?? ""}`);
          } else if (node.tupleToUserset) {
            const computed = node.tupleToUserset.computedUserset.relation ?? "";
            for (const parent of model.directTypes(
              definition.type,
              node.tupleToUserset.tupleset.relation ?? "",
            )) {
              if (model.rewrite(parent.type, computed)) into.add(`${parent.type}#${computed}`);
            }
          } else {
            for (const child of node.union?.child ?? node.intersection?.child ?? []) walk(child);
            if (node.difference) {
              walk(node.difference.base);
              walk(node.difference.subtract);
            }
          }
        };
        walk(rewrite);
        this.sources.set(`${definition.type}#${relation}`, into);
      }
    }
  }

  /** Whether `from` reaches `to` (a node reaches itself). */
  reaches(from: string, to: string): boolean {
    let found = this.reachable.get(to);
    if (!found) {
      found = new Set([to]);
      const stack = [to];
      while (stack.length > 0) {
        for (const source of this.sources.get(stack.pop() as string) ?? []) {
          if (!found.has(source)) {
            found.add(source);
            stack.push(source);
          }
        }
      }
      this.reachable.set(to, found);
    }
    return found.has(from);
  }
}
