import { ConditionEvaluationError } from "./cel-conditions.js";
import { type FgaServerError, resolutionTooComplex, validationError } from "./errors.js";
import type { CompiledModel, Userset } from "./model.js";
import { parseObject, parseUser, type TupleKey, type TupleSource } from "./tuples.js";

/** How many nested dispatches one check may take before the server calls the model too complex. */
export const RESOLUTION_DEPTH_LIMIT = 25;

/** A failed branch: a condition that could not be evaluated, or a resolution that went too deep. */
class Failure {
  constructor(readonly error: FgaServerError) {}
}
/** A path that came back to a question it is already answering: it proves nothing, and denies at the top. */
const CYCLE = Symbol("cycle");
type Outcome = boolean | Failure | typeof CYCLE;

const isFailure = (o: Outcome): o is Failure => o instanceof Failure;

/** The answer a caller sees: a cycle denies; a failure is the server's error. */
function settle(outcome: Outcome): boolean {
  if (isFailure(outcome)) throw outcome.error;
  return outcome === true;
}

/** A node of an expand tree, in the API's JSON shape. */
export interface ExpandNode {
  name: string;
  leaf?: {
    users?: { users: string[] };
    computed?: { userset: string };
    tupleToUserset?: { tupleset: string; computed: { userset: string }[] };
  };
  union?: { nodes: ExpandNode[] };
  intersection?: { nodes: ExpandNode[] };
  difference?: { base: ExpandNode; subtract: ExpandNode };
}

/** A user filter of list-users: a type, and a relation for usersets. */
export interface UserFilter {
  type: string;
  relation?: string;
}

/**
 * Evaluates one request against a model and a tuple source. Tuples the model does not allow (written
 * under an older model) are ignored, as the server ignores them.
 */
export class Evaluator {
  constructor(
    private readonly model: CompiledModel,
    private readonly tuples: TupleSource,
    private readonly context: Record<string, unknown> | undefined,
  ) {}

  /** Is `user` related to `object` by `relation`? Throws the server's error when it cannot tell. */
  check(object: string, relation: string, user: string): boolean {
    return settle(this.checkRelation(object, relation, user, 0, new Set(), false));
  }

  /** Every object of `type` that `user` has `relation` with. */
  listObjects(type: string, relation: string, user: string): string[] {
    const found: string[] = [];
    for (const object of this.tuples.objectsOfType(type)) {
      if (settle(this.checkRelation(object, relation, user, 0, new Set(), false))) found.push(object);
    }
    return found.sort();
  }

  /** Every user matching `filter` that has `relation` with `object`: objects, typed wildcards, usersets. */
  listUsers(object: string, relation: string, filter: UserFilter): string[] {
    const candidates = new Set<string>();
    this.collectUsers(object, relation, filter, candidates, new Set(), 0);
    const found: string[] = [];
    for (const user of candidates) {
      // A concrete user counts only when some path grants them without a wildcard; those granted by
      // the wildcard alone are what the listed `type:*` stands for.
      if (settle(this.checkRelation(object, relation, user, 0, new Set(), true))) found.push(user);
    }
    return found.sort();
  }

  /** One level of the userset tree of `object#relation`. */
  expand(object: string, relation: string): ExpandNode {
    const type = parseObject(object)?.type ?? "";
    const rewrite = this.model.rewrite(type, relation);
    if (!rewrite) throw validationError(`relation '${type}#${relation}' not found`);
    return this.expandRewrite(object, relation, rewrite);
  }

  private checkRelation(
    object: string,
    relation: string,
    user: string,
    depth: number,
    path: Set<string>,
    strict: boolean,
  ): Outcome {
    if (depth >= RESOLUTION_DEPTH_LIMIT) return new Failure(resolutionTooComplex());
    const key = `${object}#${relation}@${user}${strict ? "!" : ""}`;
    if (path.has(key)) return CYCLE;
    const target = parseObject(object);
    if (!target) return false;
    // A userset always contains itself.
    if (user === `${object}#${relation}`) return true;
    const rewrite = this.model.rewrite(target.type, relation);
    if (!rewrite) return false;
    path.add(key);
    try {
      return this.checkRewrite(object, target.type, relation, rewrite, user, depth, path, strict);
    } finally {
      path.delete(key);
    }
  }

  private checkRewrite(
    object: string,
    type: string,
    relation: string,
    rewrite: Userset,
    user: string,
    depth: number,
    path: Set<string>,
    strict: boolean,
  ): Outcome {
    if (rewrite.this) return this.checkDirect(object, relation, user, depth, path, strict);
    if (rewrite.computedUserset) {
      return this.checkRelation(
        object,
        rewrite.computedUserset.relation ?? "",
        user,
        depth + 1,
        path,
        strict,
      );
    }
    if (rewrite.tupleToUserset) {
      const { tupleset, computedUserset } = rewrite.tupleToUserset;
      const outcomes: (() => Outcome)[] = [];
      for (const tuple of this.validTuples(object, tupleset.relation ?? "")) {
        const parent = parseUser(tuple.user);
        if (parent?.kind !== "object") continue;
        const computed = computedUserset.relation ?? "";
        if (!this.model.rewrite(parent.type, computed)) continue;
        outcomes.push(() =>
          this.whenConditionMet(tuple, () =>
            this.checkRelation(`${parent.type}:${parent.id}`, computed, user, depth + 1, path, strict),
          ),
        );
      }
      return any(outcomes);
    }
    if (rewrite.union) {
      return any(
        rewrite.union.child.map(
          (child) => () => this.checkRewrite(object, type, relation, child, user, depth, path, strict),
        ),
      );
    }
    if (rewrite.intersection) {
      const children = rewrite.intersection.child;
      const every = all(
        children.map(
          (child) => () => this.checkRewrite(object, type, relation, child, user, depth, path, false),
        ),
      );
      // A wildcard on one side matches the concrete users of the other: strictly granted when every
      // child grants and at least one grants without a wildcard.
      if (!strict || every !== true) return every;
      return any(
        children.map(
          (child) => () => this.checkRewrite(object, type, relation, child, user, depth, path, true),
        ),
      );
    }
    if (rewrite.difference) {
      const base = this.checkRewrite(
        object,
        type,
        relation,
        rewrite.difference.base,
        user,
        depth,
        path,
        strict,
      );
      if (base === false) return false;
      // On the subtracted side a wildcard removes everyone: never strict there.
      const subtract = this.checkRewrite(
        object,
        type,
        relation,
        rewrite.difference.subtract,
        user,
        depth,
        path,
        false,
      );
      if (subtract === true) return false;
      if (isFailure(base)) return base;
      if (isFailure(subtract)) return subtract;
      // Exclusion cannot grant on the strength of an unresolvable (cyclic) branch.
      if (base === CYCLE || subtract === CYCLE) return CYCLE;
      return true;
    }
    return false;
  }

  private checkDirect(
    object: string,
    relation: string,
    user: string,
    depth: number,
    path: Set<string>,
    strict: boolean,
  ): Outcome {
    const requested = parseUser(user);
    if (!requested) return false;
    const outcomes: (() => Outcome)[] = [];
    for (const tuple of this.validTuples(object, relation)) {
      const holder = parseUser(tuple.user);
      if (!holder) continue;
      if (tuple.user === user) {
        outcomes.push(() => this.whenConditionMet(tuple, () => true));
      } else if (holder.kind === "wildcard") {
        if (!strict && requested.kind === "object" && requested.type === holder.type) {
          outcomes.push(() => this.whenConditionMet(tuple, () => true));
        }
      } else if (holder.kind === "userset") {
        outcomes.push(() =>
          this.whenConditionMet(tuple, () =>
            this.checkRelation(`${holder.type}:${holder.id}`, holder.relation, user, depth + 1, path, strict),
          ),
        );
      }
    }
    return any(outcomes);
  }

  /** The tuples of object#relation that the model allows. */
  private validTuples(object: string, relation: string): TupleKey[] {
    return this.tuples.read(object, relation).filter((tuple) => this.model.tupleProblem(tuple) === undefined);
  }

  /**
   * The tuples list-users follows from object#relation: unlike check, which stops at the first path that
   * grants, the server evaluates every condition on the way and fails the whole request on any error.
   */
  private expandableTuples(object: string, relation: string): TupleKey[] {
    return this.validTuples(object, relation).filter((tuple) => {
      const outcome = this.whenConditionMet(tuple, () => true);
      if (isFailure(outcome)) throw outcome.error;
      return outcome === true;
    });
  }

  private whenConditionMet(tuple: TupleKey, then: () => Outcome): Outcome {
    const name = tuple.condition?.name;
    if (!name) return then();
    const condition = this.model.condition(name);
    if (!condition) return false;
    try {
      const outcome = condition.evaluate(tuple.condition?.context ?? undefined, this.context);
      if (outcome.missingParameters.length > 0) {
        return new Failure(
          validationError(
            `failed to evaluate relationship condition: '${name}' - tuple '${tuple.object}#${tuple.relation}@${tuple.user}' is missing context parameters '[${outcome.missingParameters.join(" ")}]'`,
          ),
        );
      }
      return outcome.met ? then() : false;
    } catch (error) {
      if (error instanceof ConditionEvaluationError) return new Failure(validationError(error.message));
      throw error;
    }
  }

  /** Collects every user that could hold object#relation (conditions aside); check decides which do. */
  private collectUsers(
    object: string,
    relation: string,
    filter: UserFilter,
    into: Set<string>,
    seen: Set<string>,
    depth: number,
  ): void {
    const key = `${object}#${relation}`;
    if (depth >= RESOLUTION_DEPTH_LIMIT) throw resolutionTooComplex();
    if (seen.has(key)) return;
    seen.add(key);
    const target = parseObject(object);
    if (!target) return;
    if (filter.relation && target.type === filter.type && relation === filter.relation) into.add(key);
    const rewrite = this.model.rewrite(target.type, relation);
    if (rewrite) this.collectFromRewrite(object, relation, rewrite, filter, into, seen, depth);
  }

  private collectFromRewrite(
    object: string,
    relation: string,
    rewrite: Userset,
    filter: UserFilter,
    into: Set<string>,
    seen: Set<string>,
    depth: number,
  ): void {
    if (rewrite.this) {
      this.collectDirect(object, relation, filter, into, seen, depth);
    } else if (rewrite.computedUserset) {
      this.collectUsers(object, rewrite.computedUserset.relation ?? "", filter, into, seen, depth + 1);
    } else if (rewrite.tupleToUserset) {
      const { tupleset, computedUserset } = rewrite.tupleToUserset;
      for (const tuple of this.expandableTuples(object, tupleset.relation ?? "")) {
        const parent = parseUser(tuple.user);
        if (parent?.kind === "object") {
          this.collectUsers(
            `${parent.type}:${parent.id}`,
            computedUserset.relation ?? "",
            filter,
            into,
            seen,
            depth + 1,
          );
        }
      }
    } else {
      const children = rewrite.union?.child ?? rewrite.intersection?.child ?? [];
      const all = rewrite.difference ? [rewrite.difference.base] : children;
      for (const child of all) this.collectFromRewrite(object, relation, child, filter, into, seen, depth);
    }
  }

  private collectDirect(
    object: string,
    relation: string,
    filter: UserFilter,
    into: Set<string>,
    seen: Set<string>,
    depth: number,
  ): void {
    for (const tuple of this.expandableTuples(object, relation)) {
      const holder = parseUser(tuple.user);
      if (!holder || holder.type !== filter.type) {
        if (holder?.kind === "userset") {
          this.collectUsers(`${holder.type}:${holder.id}`, holder.relation, filter, into, seen, depth + 1);
        }
        continue;
      }
      if (holder.kind === "userset") {
        if (filter.relation === holder.relation) into.add(tuple.user);
        this.collectUsers(`${holder.type}:${holder.id}`, holder.relation, filter, into, seen, depth + 1);
      } else if (!filter.relation) {
        into.add(tuple.user);
      }
    }
  }

  private expandRewrite(object: string, relation: string, rewrite: Userset): ExpandNode {
    const name = `${object}#${relation}`;
    if (rewrite.this) {
      return { name, leaf: { users: { users: this.validTuples(object, relation).map((t) => t.user) } } };
    }
    if (rewrite.computedUserset) {
      return { name, leaf: { computed: { userset: `${object}#${rewrite.computedUserset.relation ?? ""}` } } };
    }
    if (rewrite.tupleToUserset) {
      const { tupleset, computedUserset } = rewrite.tupleToUserset;
      const computed = this.validTuples(object, tupleset.relation ?? "")
        .map((t) => parseUser(t.user))
        .filter((u) => u?.kind === "object")
        .map((u) => ({
          userset: `${u?.type}:${u?.kind === "object" ? u.id : ""}#${computedUserset.relation ?? ""}`,
        }));
      return {
        name,
        leaf: { tupleToUserset: { tupleset: `${object}#${tupleset.relation ?? ""}`, computed } },
      };
    }
    if (rewrite.union) {
      return {
        name,
        union: { nodes: rewrite.union.child.map((c) => this.expandRewrite(object, relation, c)) },
      };
    }
    if (rewrite.intersection) {
      return {
        name,
        intersection: {
          nodes: rewrite.intersection.child.map((c) => this.expandRewrite(object, relation, c)),
        },
      };
    }
    if (rewrite.difference) {
      return {
        name,
        difference: {
          base: this.expandRewrite(object, relation, rewrite.difference.base),
          subtract: this.expandRewrite(object, relation, rewrite.difference.subtract),
        },
      };
    }
    return { name };
  }
}

/**
 * Combines branch outcomes: the first branch equal to `decisive` settles it (true for a union, false for
 * an intersection); otherwise the first failure, else a cycle if any branch hit one, else !decisive.
 */
function combine(branches: (() => Outcome)[], decisive: boolean): Outcome {
  let failure: Failure | undefined;
  let cycle = false;
  for (const branch of branches) {
    const outcome = branch();
    if (outcome === decisive) return decisive;
    if (isFailure(outcome)) failure ??= outcome;
    if (outcome === CYCLE) cycle = true;
  }
  return failure ?? (cycle ? CYCLE : !decisive);
}

const any = (branches: (() => Outcome)[]) => combine(branches, true);
const all = (branches: (() => Outcome)[]) => combine(branches, false);
