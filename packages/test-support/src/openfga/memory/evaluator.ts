import { ConditionEvaluationError } from "./cel-conditions.js";
import { FgaServerError, resolutionTooComplex, validationError } from "./errors.js";
import type { CompiledModel, RelationReference, Userset } from "./model.js";
import {
  isTypedWildcard,
  isValidUserset,
  parseObject,
  parseUser,
  splitObjectRelation,
  type TupleKey,
  type TupleSource,
  typeOf,
} from "./tuples.js";
import type { WeightedEdge, WeightedGraph, WeightedNode } from "./weighted-graph.js";

/** How many nested dispatches one request may take before the server calls the model too complex. */
export const RESOLUTION_DEPTH_LIMIT = 25;

/** A failed branch: a condition that could not be evaluated, or a resolution that went too deep. */
class Failure {
  constructor(readonly error: FgaServerError) {}
}
const isFailure = (o: unknown): o is Failure => o instanceof Failure;

/**
 * The outcome of one check branch, as the server's resolver reports it: allowed or not, and whether the
 * branch came back to a question it was already answering (a cycle). A cycle denies, and it also decides
 * set operations: an intersection with a cyclic operand and an exclusion with a cyclic operand on either
 * side deny (the server's intersection and exclusion reducers short-circuit on it).
 */
interface Resolution {
  allowed: boolean;
  cycle: boolean;
}
type Outcome = Resolution | Failure;
const ALLOWED: Resolution = { allowed: true, cycle: false };
const DENIED: Resolution = { allowed: false, cycle: false };

/** One check request on its way through the resolver: what it asks, the path that led here, how deep it is. */
interface CheckRequest {
  object: string;
  relation: string;
  user: string;
  visited: Set<string>;
  depth: number;
}

/** How an evaluator resolves checks. */
export interface EvaluatorOptions {
  /**
   * Resolve every check with the server's default strategy (one dispatch per tuple). The server's
   * planner picks it now and then instead of reading from the user's side, mostly when the faster
   * strategies have been slow, and where conditions cannot be evaluated the two can answer differently.
   * The differential test uses this to tell such planner-dependent answers from the double's defects.
   */
  defaultStrategyOnly?: boolean;
  /**
   * Settle intersections and exclusions as the server does when a branch's cycle is found before another
   * branch's plain denial. The server races its branches, so which of the two reaches it first depends on
   * timing; the double answers with the usual order (the plain denial first). The differential test uses
   * this to tell such race-dependent answers from the double's defects.
   */
  cycleFirst?: boolean;
}

/** What the user holds by its own tuples on one relation, or why that could not be read. */
interface FromUser {
  objects: Set<string>;
  failure?: Failure;
  immediate?: boolean;
}

/** The user a reverse expansion starts from or has reached. */
interface ExpandUser {
  kind: "object" | "wildcard" | "userset";
  type: string;
  object: string;
  relation: string;
}

/** An edge of the server's pruned search from a relation toward a user type. */
interface PrunedEdge {
  kind: "direct" | "computed" | "ttu";
  type: string;
  relation: string;
  tupleset?: string;
  furtherEval: boolean;
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

/** A user list-users found, and whether the relation holds for them (exclusion can say it does not). */
interface FoundUser {
  user: string;
  has: boolean;
  excluded?: string[];
}

/** One list-users expansion request: the object#relation being expanded and the path that led here. */
interface ExpandRequest {
  object: string;
  relation: string;
  visited: Set<string>;
  depth: number;
}

/** What an expansion returns besides the users: the errors it met and whether it entered a cycle. */
interface Expansion {
  errors: FgaServerError[];
  cycle: boolean;
}

/**
 * Evaluates one request against a model and a tuple source, the way OpenFGA v1.18.1 resolves it: the same
 * answers, the same errors, and conditions evaluated only where the server evaluates them. Tuples the model
 * does not allow (written under an older model) are skipped, as the server skips them.
 */
export class Evaluator {
  constructor(
    private readonly model: CompiledModel,
    private readonly tuples: TupleSource,
    private readonly context: Record<string, unknown> | undefined,
    private readonly options: EvaluatorOptions = {},
  ) {}

  /** Is `user` related to `object` by `relation`? Throws the server's error when it cannot tell. */
  check(object: string, relation: string, user: string): boolean {
    const outcome = this.resolveCheck({ object, relation, user, visited: new Set(), depth: 0 });
    if (isFailure(outcome)) throw outcome.error;
    return outcome.allowed;
  }

  /**
   * Every object of `type` that `user` has `relation` with, found as the server finds it. For an object user
   * the server runs its pipeline over the weighted graph (when the model has one); for a userset or a
   * wildcard, or a model without a weighted graph, it expands from the user and checks what needs it.
   */
  listObjects(type: string, relation: string, user: string): string[] {
    const graph = this.model.weightedGraph();
    if (graph && !isValidUserset(user) && !isTypedWildcard(user))
      return this.pipeline(graph, type, relation, user);
    return this.reverseExpandList(type, relation, user);
  }

  // ---- list-objects: the pipeline --------------------------------------------------------------------

  /**
   * The server's list-objects pipeline: objects flow from the user up the weighted graph, each edge reading
   * the tuples whose user is an object found below it. Every tuple read on the way has its condition
   * evaluated, and one that cannot be evaluated fails the whole request (the server reports it with the
   * message "Internal Server Error" under validation_error; the double says the same).
   */
  private pipeline(graph: WeightedGraph, type: string, relation: string, user: string): string[] {
    const subject = typeOf(user);
    const root = graph.node(`${type}#${relation}`);
    if (!root) return [];
    // The workers: every node reached from the target through edges that lead to the user's type, found
    // in the server's order. Workers on a recursive path share a cycle group (passed along recursive edges).
    const active = new Map<string, WeightedEdge[]>();
    const senders = new Map<string, (WeightedEdge | undefined)[]>();
    const workers = new Set<string>();
    const groups = new Map<string, object>();
    const cyclical = (e: WeightedEdge) => Boolean(e.recursiveRelation) || e.tupleCycle;
    const joinsGroups = (n: WeightedNode) =>
      n.nodeType === "relation" ||
      n.nodeType === "direct-group" ||
      n.nodeType === "ttu-group" ||
      (n.nodeType === "operator" && n.label === "union");
    const stack: { node: WeightedNode; edge?: WeightedEdge; group?: object }[] = [{ node: root }];
    const seenEdges = new Set<WeightedEdge>();
    while (stack.length > 0) {
      const current = stack.pop() as { node: WeightedNode; edge?: WeightedEdge; group?: object };
      const label = current.node.uniqueLabel;
      const edge = current.edge;
      if (edge) {
        if (seenEdges.has(edge)) continue;
        seenEdges.add(edge);
        if (!edge.weights.has(subject)) {
          // An operand that cannot lead to the user still counts (an empty one) for set operations.
          if (workers.has(edge.from.uniqueLabel))
            senders.set(edge.from.uniqueLabel, [...(senders.get(edge.from.uniqueLabel) ?? []), undefined]);
          continue;
        }
      }
      if (!workers.has(label)) {
        current.group ??= {};
        workers.add(label);
        if (joinsGroups(current.node)) groups.set(label, current.group);
      }
      if (edge && workers.has(edge.from.uniqueLabel)) {
        senders.set(edge.from.uniqueLabel, [...(senders.get(edge.from.uniqueLabel) ?? []), edge]);
        active.set(edge.from.uniqueLabel, [...(active.get(edge.from.uniqueLabel) ?? []), edge]);
      }
      const next = graph.edgesFrom(label) ?? [];
      for (let i = next.length - 1; i >= 0; i--) {
        const e = next[i] as WeightedEdge;
        stack.push({ node: e.to, edge: e, group: cyclical(e) ? current.group : undefined });
      }
    }
    const wildcard = `${subject}:*`;
    if (!workers.has(subject) && !workers.has(wildcard)) return [];
    // OpenFGA v1.18.1 defect, mirrored: a cycle group finishes (and closes its members' outputs) only when
    // each member has read every input that is not marked recursive to its end; when such an input depends,
    // directly or through other workers, on the group's own outputs, the pipeline never finishes and the
    // request ends in 500 deadline_exceeded after the server's timeout. It happens when a grouping node
    // (the restrictions of one relation, or a tuple-to-userset's parent types) is entered twice on a
    // recursive path, say `define member: [user, group#member] or [user, group#member]`. The double answers
    // the same at once, so a suite cannot pass against the double and time out against the server.
    if (this.pipelineDeadlocks(workers, groups, active, cyclical)) {
      throw new FgaServerError(500, "deadline_exceeded", "context deadline exceeded");
    }
    const values = new Map<string, Set<string>>();
    if (workers.has(subject)) values.set(subject, new Set([user]));
    if (workers.has(wildcard)) values.set(wildcard, new Set([wildcard]));
    const reads = new Map<string, string[] | Failure>();
    const read = (edge: WeightedEdge, input: string): string[] | Failure => {
      const key = `${edge.from.uniqueLabel}>${edge.to.uniqueLabel}>${edge.edgeType}>${input}`;
      let found = reads.get(key);
      if (!found) {
        found = this.pipelineRead(graph, edge, input);
        reads.set(key, found);
      }
      return found;
    };
    const interpret = (edge: WeightedEdge): Set<string> => {
      const inputs = values.get(edge.to.uniqueLabel) ?? new Set<string>();
      if (edge.edgeType !== "direct" && edge.edgeType !== "ttu") return inputs;
      const out = new Set<string>();
      for (const input of inputs) {
        const found = read(edge, input);
        if (!isFailure(found)) for (const object of found) out.add(object);
      }
      return out;
    };
    const compute = (label: string): Set<string> => {
      const node = graph.node(label) as WeightedNode;
      const inputs = (senders.get(label) ?? []).map((edge) => (edge ? interpret(edge) : new Set<string>()));
      if (node.nodeType === "operator" && node.label === "intersection") {
        return new Set([...(inputs[0] ?? [])].filter((o) => inputs.every((i) => i.has(o))));
      }
      if (node.nodeType === "operator" && node.label === "exclusion") {
        return new Set([...(inputs[0] ?? [])].filter((o) => !inputs[1]?.has(o)));
      }
      return new Set(inputs.flatMap((i) => [...i]));
    };
    // Each group of nodes that feed one another (cycles only pass through unions) is computed once all
    // it reads from is final, iterating from nothing up to its fixpoint.
    for (const group of stronglyConnected([...workers], (label) =>
      (active.get(label) ?? []).map((e) => e.to.uniqueLabel),
    )) {
      const computed = group.filter((label) => {
        const type = graph.node(label)?.nodeType;
        return type !== "type" && type !== "wildcard";
      });
      for (let changed = true; changed; ) {
        changed = false;
        for (const label of computed) {
          const next = compute(label);
          const previous = values.get(label);
          if (!previous || previous.size !== next.size || [...next].some((o) => !previous.has(o))) {
            values.set(label, next);
            changed = true;
          }
        }
      }
    }
    // Every read the pipeline makes with what finally flows into it; one failed condition fails it all.
    let failure: Failure | undefined;
    for (const edges of active.values()) {
      for (const edge of edges) {
        if (edge.edgeType !== "direct" && edge.edgeType !== "ttu") continue;
        for (const input of values.get(edge.to.uniqueLabel) ?? []) {
          const found = read(edge, input);
          if (isFailure(found)) failure ??= found;
        }
      }
    }
    if (failure) throw validationError("Internal Server Error");
    return [...(values.get(root.uniqueLabel) ?? [])].filter((o) => typeOf(o) === type).sort();
  }

  /** Whether the pipeline's workers wait on one another in a circle (see the defect described in pipeline()). */
  private pipelineDeadlocks(
    workers: Set<string>,
    groups: Map<string, object>,
    active: Map<string, WeightedEdge[]>,
    cyclical: (e: WeightedEdge) => boolean,
  ): boolean {
    const ids = new Map<object, string>();
    const key = (label: string) => {
      const group = groups.get(label);
      if (!group) return `worker ${label}`;
      if (!ids.has(group)) ids.set(group, `group ${ids.size}`);
      return ids.get(group) as string;
    };
    // A group waits for the inputs its members read as standard (not recursive) inputs to end; any other
    // worker waits for all its inputs to end.
    const waits = new Map<string, Set<string>>();
    for (const label of workers) {
      const from = key(label);
      const set = waits.get(from) ?? new Set<string>();
      waits.set(from, set);
      for (const edge of active.get(label) ?? []) {
        if (groups.has(label) && cyclical(edge)) continue;
        set.add(key(edge.to.uniqueLabel));
      }
    }
    const state = new Map<string, "open" | "done">();
    const circular = (node: string): boolean => {
      if (state.get(node) === "open") return true;
      if (state.get(node) === "done") return false;
      state.set(node, "open");
      for (const next of waits.get(node) ?? []) if (circular(next)) return true;
      state.set(node, "done");
      return false;
    };
    return [...waits.keys()].some(circular);
  }

  /** The objects one pipeline edge yields for one object found below it: the tuples naming it as their user. */
  private pipelineRead(graph: WeightedGraph, edge: WeightedEdge, input: string): string[] | Failure {
    let type: string;
    let relation: string;
    let user = input;
    let conditions = edge.conditions;
    if (edge.edgeType === "direct") {
      [type, relation] = edge.relationDefinition.split("#") as [string, string];
      const [, userRelation] = splitObjectRelation(edge.to.uniqueLabel);
      if (edge.to.nodeType === "relation") user = `${input}#${userRelation}`;
    } else {
      [type, relation] = edge.tuplesetRelation.split("#") as [string, string];
      const parentType = edge.to.uniqueLabel.split("#")[0] ?? "";
      conditions =
        graph.edgesFrom(edge.tuplesetRelation)?.find((e) => e.to.uniqueLabel === parentType)?.conditions ??
        [];
    }
    const objects: string[] = [];
    for (const tuple of this.tuples.readByType(type, relation)) {
      if (tuple.user !== user) continue;
      // The store filters stored tuples by the edge's conditions; contextual tuples are not filtered.
      if (!this.isContextual(tuple) && !conditions.includes(tuple.condition?.name ?? "")) continue;
      const met = this.conditionMet(tuple);
      if (isFailure(met)) return met;
      if (met && this.model.isReadable(tuple)) objects.push(tuple.object);
    }
    return objects;
  }

  private isContextual(tuple: TupleKey): boolean {
    return this.tuples.isContextual?.(tuple) ?? false;
  }

  // ---- list-objects: reverse expansion and check -------------------------------------------------------

  /**
   * The server's older list-objects: expand from the user through the model's pruned edges, reading the
   * user's tuples and following what they grant; objects reached through an intersection or an exclusion
   * are then checked. A condition that cannot be evaluated anywhere on the way fails the request.
   */
  private reverseExpandList(type: string, relation: string, user: string): string[] {
    const candidates = new Map<string, boolean>();
    const errors: FgaServerError[] = [];
    const visited = new Set<string>();
    const [userObject, userRelation] = splitObjectRelation(user);
    const start: ExpandUser = isValidUserset(user)
      ? { kind: "userset", type: typeOf(userObject), object: userObject, relation: userRelation }
      : isTypedWildcard(user)
        ? { kind: "wildcard", type: typeOf(user), object: "", relation: "" }
        : { kind: "object", type: typeOf(user), object: user, relation: "" };
    this.reverseExpand({ type, relation }, start, undefined, false, undefined, candidates, errors, visited);
    const found: string[] = [];
    for (const [object, furtherEval] of candidates) {
      if (!furtherEval) {
        found.push(object);
        continue;
      }
      const outcome = this.resolveCheck({ object, relation, user, visited: new Set(), depth: 0 });
      if (isFailure(outcome)) errors.push(outcome.error);
      else if (outcome.allowed) found.push(object);
    }
    if (errors.length > 0) {
      throw errors.find((e) => e.code === "authorization_model_resolution_too_complex") ?? errors[0];
    }
    return [...new Set(found)].sort();
  }

  private reverseExpand(
    target: { type: string; relation: string },
    user: ExpandUser,
    edgeKey: string | undefined,
    furtherEval: boolean,
    depth: number | undefined,
    candidates: Map<string, boolean>,
    errors: FgaServerError[],
    visited: Set<string>,
  ): void {
    if (depth !== undefined && depth >= RESOLUTION_DEPTH_LIMIT) {
      errors.push(resolutionTooComplex());
      return;
    }
    const nextDepth = depth === undefined ? 0 : depth + 1;
    if (user.kind === "userset") {
      if (edgeKey) {
        const key = `${user.object}#${edgeKey}`;
        if (visited.has(key)) return;
        visited.add(key);
      }
      if (user.type === target.type && user.relation === target.relation && !candidates.has(user.object)) {
        candidates.set(user.object, furtherEval);
      }
    }
    const source = { type: user.type, relation: user.relation, wildcard: user.kind === "wildcard" };
    for (const edge of this.prunedEdges(target.type, target.relation, source)) {
      const further = furtherEval || edge.furtherEval;
      const key = `${edge.kind} ${edge.type}#${edge.relation} ${edge.tupleset ?? ""}`;
      if (edge.kind === "computed") {
        this.reverseExpand(
          target,
          { kind: "userset", type: user.type, object: user.object, relation: edge.relation },
          key,
          further,
          nextDepth,
          candidates,
          errors,
          visited,
        );
        continue;
      }
      let users: string[];
      let readRelation: string;
      if (edge.kind === "direct") {
        readRelation = edge.relation;
        users = [];
        if (user.kind !== "userset" && this.model.isPubliclyAssignable(edge.type, edge.relation, user.type)) {
          users.push(`${user.type}:*`);
        }
        if (user.kind === "object") users.push(user.object);
        if (user.kind === "userset") users.push(`${user.object}#${user.relation}`);
      } else {
        readRelation = edge.tupleset ?? "";
        users = [user.object];
      }
      for (const tuple of this.tuples.readByType(edge.type, readRelation)) {
        if (!users.includes(tuple.user) || !this.model.isReadable(tuple)) continue;
        if (!this.conditionHolds(tuple, errors)) continue;
        this.reverseExpand(
          target,
          {
            kind: "userset",
            type: typeOf(tuple.object),
            object: tuple.object,
            relation: edge.kind === "direct" ? tuple.relation : edge.relation,
          },
          key,
          further,
          nextDepth,
          candidates,
          errors,
          visited,
        );
      }
    }
  }

  /**
   * The edges toward `source` the server's reverse expansion follows from type#relation (its pruned
   * relationship edges): an intersection through its first operand, an exclusion through its base, and
   * whatever comes through either marked for a check. The search shares one visited set, as the server's.
   */
  private prunedEdges(
    type: string,
    relation: string,
    source: { type: string; relation: string; wildcard: boolean },
  ) {
    const visited = new Set<string>();
    const edges = (targetType: string, targetRelation: string): PrunedEdge[] => {
      const key = `${targetType}#${targetRelation}`;
      if (visited.has(key)) return [];
      visited.add(key);
      const rewrite = this.model.rewrite(targetType, targetRelation);
      return rewrite ? withRewrite(targetType, targetRelation, rewrite) : [];
    };
    const withRewrite = (targetType: string, targetRelation: string, rewrite: Userset): PrunedEdge[] => {
      if (rewrite.this) {
        const out: PrunedEdge[] = [];
        const directly = source.wildcard
          ? this.model.isPubliclyAssignable(targetType, targetRelation, source.type)
          : this.model.isDirectlyRelated(targetType, targetRelation, source.type, source.relation);
        if (directly || this.model.isPubliclyAssignable(targetType, targetRelation, source.type)) {
          out.push({ kind: "direct", type: targetType, relation: targetRelation, furtherEval: false });
        }
        for (const r of this.model.directTypes(targetType, targetRelation)) {
          if (r.relation) out.push(...edges(r.type, r.relation));
        }
        return out;
      }
      if (rewrite.computedUserset) {
        const computed = rewrite.computedUserset.relation ?? "";
        const out: PrunedEdge[] = [];
        if (targetType === source.type && computed === source.relation) {
          out.push({ kind: "computed", type: targetType, relation: targetRelation, furtherEval: false });
        }
        out.push(...edges(targetType, computed));
        return out;
      }
      if (rewrite.tupleToUserset) {
        const computed = rewrite.tupleToUserset.computedUserset.relation ?? "";
        const tupleset = rewrite.tupleToUserset.tupleset.relation ?? "";
        const out: PrunedEdge[] = [];
        for (const parent of this.model.directTypes(targetType, tupleset)) {
          if (!this.model.rewrite(parent.type, computed)) continue;
          if (parent.type === source.type && computed === source.relation) {
            out.push({
              kind: "ttu",
              type: targetType,
              relation: targetRelation,
              tupleset,
              furtherEval:
                this.relationInvolves(parent.type, computed, "intersection") ||
                this.relationInvolves(parent.type, computed, "difference"),
            });
          }
          out.push(...edges(parent.type, computed));
        }
        return out;
      }
      if (rewrite.union)
        return rewrite.union.child.flatMap((child) => withRewrite(targetType, targetRelation, child));
      const first = rewrite.intersection?.child[0] ?? rewrite.difference?.base;
      if (!first) return [];
      const out = withRewrite(targetType, targetRelation, first);
      for (const edge of out) edge.furtherEval = true;
      return out;
    };
    return edges(type, relation);
  }

  /** Whether type#relation involves an intersection (or an exclusion) anywhere it resolves through. */
  private relationInvolves(type: string, relation: string, operator: "intersection" | "difference"): boolean {
    const visited = new Set<string>();
    const involves = (t: string, r: string): boolean => {
      const key = `${t}#${r}`;
      if (visited.has(key)) return false;
      visited.add(key);
      const rewrite = this.model.rewrite(t, r);
      if (!rewrite) return false;
      const walk = (node: Userset): boolean => {
        if (node.computedUserset) return involves(t, node.computedUserset.relation ?? "");
        if (node.tupleToUserset) {
          const computed = node.tupleToUserset.computedUserset.relation ?? "";
          return this.model
            .directTypes(t, node.tupleToUserset.tupleset.relation ?? "")
            .some(
              (parent) =>
                Boolean(this.model.rewrite(parent.type, computed)) && involves(parent.type, computed),
            );
        }
        if (node.intersection) return operator === "intersection" || node.intersection.child.some(walk);
        if (node.difference)
          return operator === "difference" || walk(node.difference.base) || walk(node.difference.subtract);
        if (node.union) return node.union.child.some(walk);
        return false;
      };
      if (walk(rewrite)) return true;
      return this.model.directTypes(t, r).some((restriction) => {
        if (!restriction.relation || visited.has(`${restriction.type}#${restriction.relation}`)) return false;
        return involves(restriction.type, restriction.relation);
      });
    };
    return involves(type, relation);
  }

  /** One level of the userset tree of `object#relation`. */
  expand(object: string, relation: string): ExpandNode {
    const type = parseObject(object)?.type ?? "";
    const rewrite = this.model.rewrite(type, relation);
    if (!rewrite) throw validationError(`relation '${type}#${relation}' not found`);
    return this.expandRewrite(object, relation, rewrite);
  }

  // ---- check ----------------------------------------------------------------------------------------

  private resolveCheck(request: CheckRequest): Outcome {
    if (request.depth >= RESOLUTION_DEPTH_LIMIT) return new Failure(resolutionTooComplex());
    const key = `${request.object}#${request.relation}@${request.user}`;
    if (request.visited.has(key)) return { allowed: false, cycle: true };
    request.visited.add(key);
    // A userset always contains itself.
    if (request.user === `${request.object}#${request.relation}`) return ALLOWED;
    const type = typeOf(request.object);
    const rewrite = this.model.rewrite(type, request.relation);
    if (!rewrite) return DENIED;
    // The server prunes by the model's type graph before it reads a tuple: no path, no reads, no conditions.
    if (!this.model.pathExists(request.user, request.relation, type)) return DENIED;
    return this.checkRewrite(request, rewrite);
  }

  /** A request for another question on the same path: computed relations keep the depth, dispatches add one. */
  private child(request: CheckRequest, object: string, relation: string, dispatch: boolean): CheckRequest {
    return {
      object,
      relation,
      user: request.user,
      visited: new Set(request.visited),
      depth: request.depth + (dispatch ? 1 : 0),
    };
  }

  private checkRewrite(request: CheckRequest, rewrite: Userset): Outcome {
    if (rewrite.this) return this.checkDirect(request);
    if (rewrite.computedUserset) {
      return this.resolveCheck(
        this.child(request, request.object, rewrite.computedUserset.relation ?? "", false),
      );
    }
    if (rewrite.tupleToUserset) return this.checkTupleToUserset(request, rewrite.tupleToUserset);
    if (rewrite.union)
      return union(rewrite.union.child.map((child) => () => this.checkRewrite(request, child)));
    if (rewrite.intersection) {
      return intersection(
        rewrite.intersection.child.map((child) => () => this.checkRewrite(request, child)),
        this.options.cycleFirst === true,
      );
    }
    if (rewrite.difference) {
      const { base, subtract } = rewrite.difference;
      return exclusion(
        () => this.checkRewrite(request, base),
        () => this.checkRewrite(request, subtract),
        this.options.cycleFirst === true,
      );
    }
    return DENIED;
  }

  /**
   * A direct relation, as the server checks it: the user's own tuple (only when the model allows the
   * user's type there), a wildcard of the user's type (only when the model allows `type:*` and the user is
   * not a userset), and the usersets the model allows, each resolved in turn.
   */
  private checkDirect(request: CheckRequest): Outcome {
    const type = typeOf(request.object);
    const [userObject, userRelation] = splitObjectRelation(request.user);
    const userType = typeOf(userObject);
    const branches: (() => Outcome)[] = [];
    if (
      this.model.isDirectlyRelated(
        type,
        request.relation,
        userType,
        isValidUserset(request.user) ? userRelation : "",
      )
    ) {
      branches.push(() => {
        const tuple = this.tuples.readUser(request.object, request.relation, request.user);
        if (!tuple || !this.model.isReadable(tuple)) return DENIED;
        const met = this.conditionMet(tuple);
        return isFailure(met) ? met : met ? ALLOWED : DENIED;
      });
    }
    if (!isValidUserset(request.user) && this.model.isPubliclyAssignable(type, request.relation, userType)) {
      branches.push(() => {
        const wildcards = this.tuples
          .read(request.object, request.relation)
          .filter((t) => t.user === `${userType}:*` && this.model.isReadable(t));
        const met = this.filterByCondition(wildcards);
        return isFailure(met) ? met : met.length > 0 ? ALLOWED : DENIED;
      });
    }
    const usersets = this.model.directTypes(type, request.relation).filter((r) => r.relation);
    if (usersets.length > 0) branches.push(() => this.checkUsersets(request, usersets));
    return union(branches);
  }

  /**
   * The userset tuples of a direct relation. For a user that is not itself a userset the server picks a
   * strategy from the model's weights: a recursive relation is walked level by level, a userset of weight 1
   * is matched from the user's side; the rest are resolved one dispatch per tuple. Each reads different
   * tuples and so meets different conditions, and the double reads what the server reads.
   */
  private checkUsersets(request: CheckRequest, usersets: readonly RelationReference[]): Outcome {
    const type = typeOf(request.object);
    const userType = typeOf(splitObjectRelation(request.user)[0]);
    const graph = this.strategyGraph();
    const tuplesFor = (object: string, allowed: readonly RelationReference[]) =>
      this.tuples.read(object, request.relation).filter((t) => {
        if (!isValidUserset(t.user)) return false;
        const [userObject, relation] = splitObjectRelation(t.user);
        return (
          allowed.some((r) => r.type === typeOf(userObject) && r.relation === relation) &&
          this.model.isReadable(t)
        );
      });
    const dispatchAll = (allowed: readonly RelationReference[]): Outcome => {
      const met = this.filterByCondition(tuplesFor(request.object, allowed));
      if (isFailure(met)) return met;
      return union(
        met.map((tuple) => () => {
          const [object, relation] = splitObjectRelation(tuple.user);
          return this.resolveCheck(this.child(request, object, relation, true));
        }),
      );
    };
    if (isValidUserset(request.user) || !graph) return dispatchAll(usersets);
    if (graph.usersetUsesRecursive(type, request.relation, userType)) {
      return this.recursiveMatch(
        request,
        tuplesFor(request.object, usersets),
        [this.fromUser(type, request.relation, request.user)],
        (object) => tuplesFor(object, usersets),
      );
    }
    const branches: (() => Outcome)[] = [];
    const remaining: RelationReference[] = [];
    for (const userset of usersets) {
      if (
        !graph.usersetUsesWeight2(type, request.relation, userType, `${userset.type}#${userset.relation}`)
      ) {
        remaining.push(userset);
        continue;
      }
      branches.push(() =>
        this.matchFromUser(tuplesFor(request.object, [userset]), [
          this.fromUser(userset.type, userset.relation ?? "", request.user),
        ]),
      );
    }
    if (remaining.length > 0) branches.push(() => dispatchAll(remaining));
    return union(branches);
  }

  private checkTupleToUserset(request: CheckRequest, ttu: NonNullable<Userset["tupleToUserset"]>): Outcome {
    const type = typeOf(request.object);
    const tupleset = ttu.tupleset.relation ?? "";
    const computed = ttu.computedUserset.relation ?? "";
    const parentsOf = (object: string) =>
      this.tuples.read(object, tupleset).filter((t) => this.model.isReadable(t));
    const graph = this.strategyGraph();
    if (graph && !isValidUserset(request.user)) {
      const userType = typeOf(splitObjectRelation(request.user)[0]);
      // Each type the tupleset allows (a type listed twice, with and without a condition, counts twice).
      const fromUser = () =>
        this.model
          .directTypes(type, tupleset)
          .filter((r) => this.model.rewrite(r.type, computed))
          .map((r) => this.fromUser(r.type, computed, request.user));
      if (graph.ttuUsesWeight2(type, request.relation, userType, tupleset, computed)) {
        return this.matchFromUser(parentsOf(request.object), fromUser());
      }
      if (graph.ttuUsesRecursive(type, request.relation, userType)) {
        return this.recursiveMatch(request, parentsOf(request.object), fromUser(), parentsOf);
      }
    }
    const met = this.filterByCondition(parentsOf(request.object));
    if (isFailure(met)) return met;
    return union(
      met.flatMap((tuple) => {
        const [parent] = splitObjectRelation(tuple.user);
        if (!this.model.rewrite(typeOf(parent), computed)) return [];
        return [() => this.resolveCheck(this.child(request, parent, computed, true))];
      }),
    );
  }

  /** The weighted graph check picks its strategies from, unless told to use the default one throughout. */
  private strategyGraph(): WeightedGraph | undefined {
    return this.options.defaultStrategyOnly ? undefined : this.model.weightedGraph();
  }

  /**
   * The objects of type#relation that `user` holds by reads of its own tuples (the server's fast path,
   * used when a path is one read long): direct tuples of the user and of its type's wildcard, combined
   * through the rewrite's operators; tuple-to-usersets contribute nothing here. A failure is "immediate"
   * when it comes out of an operator, which reports it before any object.
   */
  private fromUser(type: string, relation: string, user: string): FromUser {
    const rewrite = this.model.rewrite(type, relation);
    return rewrite ? this.fromUserRewrite(type, relation, rewrite, user) : { objects: new Set() };
  }

  private fromUserRewrite(type: string, relation: string, rewrite: Userset, user: string): FromUser {
    if (rewrite.this) {
      const userType = typeOf(user);
      const users =
        this.model.isPubliclyAssignable(type, relation, userType) && user !== `${userType}:*`
          ? [user, `${userType}:*`]
          : [user];
      // The server reads these sorted by object and keeps the first tuple of each object (contextual
      // before stored, then in write order): when the user and its type's wildcard both hold an object,
      // only the first of the two is read, and its condition alone decides.
      const firstPerObject = new Map<string, TupleKey>();
      const matching = this.tuples.readByType(type, relation).filter((t) => users.includes(t.user));
      for (const tuple of [
        ...matching.filter((t) => this.isContextual(t)),
        ...matching.filter((t) => !this.isContextual(t)),
      ]) {
        if (!firstPerObject.has(tuple.object)) firstPerObject.set(tuple.object, tuple);
      }
      const tuples = [...firstPerObject.values()].filter((t) => this.model.isReadable(t));
      const met = this.filterByCondition(tuples);
      if (isFailure(met)) return { objects: new Set(), failure: met };
      return { objects: new Set(met.map((t) => t.object)) };
    }
    if (rewrite.computedUserset) return this.fromUser(type, rewrite.computedUserset.relation ?? "", user);
    if (rewrite.tupleToUserset) return { objects: new Set() };
    if (rewrite.union) {
      const all = rewrite.union.child.map((child) => this.fromUserRewrite(type, relation, child, user));
      const failed = all.find((o) => o.failure);
      if (failed) return { objects: new Set(), failure: failed.failure, immediate: true };
      return { objects: new Set(all.flatMap((o) => [...o.objects])) };
    }
    // An intersection and an exclusion look at their operands in order and stop at the first that is empty.
    const ordered =
      rewrite.intersection?.child ??
      (rewrite.difference ? [rewrite.difference.base, rewrite.difference.subtract] : []);
    const results: FromUser[] = [];
    for (const [index, child] of ordered.entries()) {
      const result = this.fromUserRewrite(type, relation, child, user);
      if (result.failure) return { objects: new Set(), failure: result.failure, immediate: true };
      if (result.objects.size === 0) {
        if (rewrite.difference && index === 1) return { objects: results[0]?.objects ?? new Set() };
        return { objects: new Set() };
      }
      results.push(result);
    }
    if (rewrite.difference) {
      const [base, subtract] = results;
      return { objects: new Set([...(base?.objects ?? [])].filter((o) => !subtract?.objects.has(o))) };
    }
    return {
      objects: new Set(
        [...(results[0]?.objects ?? [])].filter((o) => results.every((r) => r.objects.has(o))),
      ),
    };
  }

  /**
   * Weight-2 resolution: the objects the checked object points to (its userset or parent tuples) meet the
   * objects the user holds directly. No pointer tuples: denied without looking at the user's side.
   */
  private matchFromUser(pointers: readonly TupleKey[], fromUser: FromUser[]): Outcome {
    const met = this.filterByCondition(pointers);
    if (isFailure(met)) return met;
    if (met.length === 0 || fromUser.length === 0) return DENIED;
    const immediate = fromUser.find((f) => f.failure && f.immediate);
    if (immediate?.failure) return immediate.failure;
    if (met.some((t) => fromUser.some((f) => f.objects.has(splitObjectRelation(t.user)[0])))) return ALLOWED;
    return fromUser.find((f) => f.failure)?.failure ?? DENIED;
  }

  /**
   * Recursive resolution: the objects the user holds directly, then the checked object's pointers followed
   * level by level until one of them is among those objects. Each level is one dispatch deeper.
   */
  private recursiveMatch(
    request: CheckRequest,
    pointers: readonly TupleKey[],
    fromUser: FromUser[],
    next: (object: string) => readonly TupleKey[],
  ): Outcome {
    const met = this.filterByCondition(pointers);
    if (isFailure(met)) return met;
    if (met.length === 0) return DENIED;
    const failed = fromUser.find((f) => f.failure);
    if (failed?.failure) return failed.failure;
    const held = new Set(fromUser.flatMap((f) => [...f.objects]));
    if (held.size === 0) return DENIED;
    let level = new Set(met.map((t) => splitObjectRelation(t.user)[0]));
    if ([...level].some((o) => held.has(o))) return ALLOWED;
    const visited = new Set<string>();
    let depth = request.depth;
    let failure: Failure | undefined;
    for (;;) {
      depth++;
      if (depth === RESOLUTION_DEPTH_LIMIT) return new Failure(resolutionTooComplex());
      if (level.size === 0) break;
      const following = new Set<string>();
      let allowed = false;
      for (const object of level) {
        if (visited.has(object)) continue;
        visited.add(object);
        const found = this.filterByCondition(next(object).filter((t) => this.model.isReadable(t)));
        if (isFailure(found)) {
          failure = found;
          continue;
        }
        for (const tuple of found) {
          const target = splitObjectRelation(tuple.user)[0];
          if (held.has(target)) allowed = true;
          following.add(target);
        }
      }
      if (allowed) return ALLOWED;
      level = following;
    }
    return failure ?? DENIED;
  }

  /**
   * The tuples whose condition holds, read the way the server's condition-filtering iterator reads them: a
   * condition that cannot be evaluated is an error only when no tuple at all passes; once one passes, the
   * others' errors are dropped.
   */
  private filterByCondition(tuples: readonly TupleKey[]): TupleKey[] | Failure {
    const met: TupleKey[] = [];
    let failure: Failure | undefined;
    for (const tuple of tuples) {
      const outcome = this.conditionMet(tuple);
      if (isFailure(outcome)) failure = outcome;
      else if (outcome) met.push(tuple);
    }
    return met.length === 0 && failure ? failure : met;
  }

  /**
   * Whether the tuple's condition holds; when it cannot be evaluated, its error goes to `errors` and the tuple
   * counts as not granting (the walks that collect errors go on and fail the request at the end).
   */
  private conditionHolds(tuple: TupleKey, errors: FgaServerError[]): boolean {
    const met = this.conditionMet(tuple);
    if (isFailure(met)) {
      errors.push(met.error);
      return false;
    }
    return met;
  }

  /** Whether the tuple's condition holds with the request's context, or the server's error when it cannot say. */
  private conditionMet(tuple: TupleKey): boolean | Failure {
    const name = tuple.condition?.name;
    if (!name) return true;
    const condition = this.model.condition(name);
    if (!condition) {
      return new Failure(
        validationError(`failed to evaluate relationship condition: '${name}' - condition was not found`),
      );
    }
    try {
      const outcome = condition.evaluate(tuple.condition?.context ?? undefined, this.context);
      if (outcome.missingParameters.length > 0) {
        return new Failure(
          validationError(
            `failed to evaluate relationship condition: '${name}' - tuple '${tuple.object}#${tuple.relation}@${tuple.user}' is missing context parameters '[${outcome.missingParameters.join(" ")}]'`,
          ),
        );
      }
      return outcome.met;
    } catch (error) {
      if (error instanceof ConditionEvaluationError) return new Failure(validationError(error.message));
      throw error;
    }
  }

  // ---- list-users ------------------------------------------------------------------------------------

  /**
   * Every user matching `filter` that has `relation` with `object`, found the way the server's list-users
   * expands the model from the object: it lists what the expansion yields, which is not always what its own
   * check says (for example where wildcards meet exclusion), and the double lists the same.
   */
  listUsers(object: string, relation: string, filter: UserFilter): string[] {
    const type = typeOf(object);
    // Without a path in the type graph from the filter to object#relation, the server reads nothing.
    if (
      !(filter.type === type && (filter.relation ?? "") === relation) &&
      !this.hasPossibleEdges(type, relation, filter)
    ) {
      return [];
    }
    const found: FoundUser[] = [];
    const expansion = this.expandUsers({ object, relation, visited: new Set(), depth: 0 }, filter, found);
    if (expansion.errors.length > 0) {
      throw (
        expansion.errors.find((e) => e.code === "authorization_model_resolution_too_complex") ??
        expansion.errors[0]
      );
    }
    // The last word on each user wins, as in the server's map of found users.
    const last = new Map<string, boolean>();
    for (const f of found) last.set(f.user, f.has);
    return [...last]
      .filter(([, has]) => has)
      .map(([user]) => user)
      .sort();
  }

  /**
   * Whether the type graph has an edge from the filter toward type#relation, searched as the server's
   * pruned search does: an intersection through its first operand only, an exclusion through its base only.
   */
  private hasPossibleEdges(type: string, relation: string, filter: UserFilter): boolean {
    const visited = new Set<string>();
    const source = { type: filter.type, relation: filter.relation ?? "" };
    const visit = (targetType: string, targetRelation: string): boolean => {
      const key = `${targetType}#${targetRelation}`;
      if (visited.has(key)) return false;
      visited.add(key);
      const rewrite = this.model.rewrite(targetType, targetRelation);
      return rewrite ? walk(targetType, targetRelation, rewrite) : false;
    };
    const walk = (targetType: string, targetRelation: string, rewrite: Userset): boolean => {
      let found = false;
      if (rewrite.this) {
        if (
          this.model.isDirectlyRelated(targetType, targetRelation, source.type, source.relation) ||
          this.model.isPubliclyAssignable(targetType, targetRelation, source.type)
        ) {
          found = true;
        }
        for (const r of this.model.directTypes(targetType, targetRelation)) {
          if (r.relation && visit(r.type, r.relation)) found = true;
        }
      } else if (rewrite.computedUserset) {
        const computed = rewrite.computedUserset.relation ?? "";
        if (targetType === source.type && computed === source.relation) found = true;
        if (visit(targetType, computed)) found = true;
      } else if (rewrite.tupleToUserset) {
        const computed = rewrite.tupleToUserset.computedUserset.relation ?? "";
        for (const parent of this.model.directTypes(
          targetType,
          rewrite.tupleToUserset.tupleset.relation ?? "",
        )) {
          if (!this.model.rewrite(parent.type, computed)) continue;
          if (parent.type === source.type && computed === source.relation) found = true;
          if (visit(parent.type, computed)) found = true;
        }
      } else if (rewrite.union) {
        for (const child of rewrite.union.child) if (walk(targetType, targetRelation, child)) found = true;
      } else if (rewrite.intersection) {
        const first = rewrite.intersection.child[0];
        if (first && walk(targetType, targetRelation, first)) found = true;
      } else if (rewrite.difference) {
        if (walk(targetType, targetRelation, rewrite.difference.base)) found = true;
      }
      return found;
    };
    return visit(type, relation);
  }

  private expandUsers(request: ExpandRequest, filter: UserFilter, out: FoundUser[]): Expansion {
    if (request.depth >= RESOLUTION_DEPTH_LIMIT) return { errors: [resolutionTooComplex()], cycle: false };
    request.depth++;
    const key = `${request.object}#${request.relation}`;
    if (request.visited.has(key)) return { errors: [], cycle: true };
    request.visited.add(key);
    const type = typeOf(request.object);
    // The object's own userset, when it is what the filter asks for.
    if (filter.type === type && (filter.relation ?? "") === request.relation)
      out.push({ user: key, has: true });
    const rewrite = this.model.rewrite(type, request.relation);
    if (!rewrite) return { errors: [], cycle: false };
    return this.expandUsersRewrite(request, rewrite, filter, out);
  }

  private dispatchExpand(
    request: ExpandRequest,
    object: string,
    relation: string,
    filter: UserFilter,
    out: FoundUser[],
  ) {
    return this.expandUsers(
      { object, relation, visited: new Set(request.visited), depth: request.depth },
      filter,
      out,
    );
  }

  private expandUsersRewrite(
    request: ExpandRequest,
    rewrite: Userset,
    filter: UserFilter,
    out: FoundUser[],
  ): Expansion {
    if (rewrite.this) return this.expandUsersDirect(request, filter, out);
    if (rewrite.computedUserset) {
      return this.dispatchExpand(
        request,
        request.object,
        rewrite.computedUserset.relation ?? "",
        filter,
        out,
      );
    }
    if (rewrite.tupleToUserset)
      return this.expandUsersTupleToUserset(request, rewrite.tupleToUserset, filter, out);
    if (rewrite.union) return this.expandUsersUnion(request, rewrite.union.child, filter, out);
    if (rewrite.intersection)
      return this.expandUsersIntersection(request, rewrite.intersection.child, filter, out);
    if (rewrite.difference) return this.expandUsersExclusion(request, rewrite.difference, filter, out);
    return { errors: [], cycle: false };
  }

  /**
   * Every tuple's condition is evaluated on the way (unlike check, which stops at the first grant); an
   * error does not stop the expansion but fails the request at the end.
   */
  private expandUsersDirect(request: ExpandRequest, filter: UserFilter, out: FoundUser[]): Expansion {
    const errors: FgaServerError[] = [];
    let cycle = false;
    for (const tuple of this.tuples.read(request.object, request.relation)) {
      if (!this.model.isReadable(tuple) || !this.conditionHolds(tuple, errors)) continue;
      const [userObject, userRelation] = splitObjectRelation(tuple.user);
      if (!userRelation) {
        // Objects and wildcards of the filter's type are listed even when the filter names a relation
        // (a filter group#member also lists group:b and group:*): the server does, consistently.
        if (filter.type === typeOf(userObject)) out.push({ user: userObject, has: true });
        continue;
      }
      const expansion = this.dispatchExpand(request, userObject, userRelation, filter, out);
      errors.push(...expansion.errors);
      cycle ||= expansion.cycle;
    }
    return { errors, cycle };
  }

  private expandUsersTupleToUserset(
    request: ExpandRequest,
    ttu: NonNullable<Userset["tupleToUserset"]>,
    filter: UserFilter,
    out: FoundUser[],
  ): Expansion {
    const errors: FgaServerError[] = [];
    for (const tuple of this.tuples.read(request.object, ttu.tupleset.relation ?? "")) {
      if (!this.model.isReadable(tuple) || !this.conditionHolds(tuple, errors)) continue;
      const expansion = this.dispatchExpand(
        request,
        tuple.user,
        ttu.computedUserset.relation ?? "",
        filter,
        out,
      );
      errors.push(...expansion.errors);
    }
    return { errors, cycle: false };
  }

  private expandUsersUnion(
    request: ExpandRequest,
    children: Userset[],
    filter: UserFilter,
    out: FoundUser[],
  ): Expansion {
    const errors: FgaServerError[] = [];
    const found = new Set<string>();
    const excludedCount = new Map<string, number>();
    for (const child of children) {
      const users: FoundUser[] = [];
      errors.push(...this.expandUsersRewrite(request, child, filter, users).errors);
      for (const user of users) {
        for (const excluded of user.excluded ?? [])
          excludedCount.set(excluded, (excludedCount.get(excluded) ?? 0) + 1);
        if (user.has) found.add(user.user);
      }
    }
    // Excluded by every operand (counted per message, as the server counts).
    const excluded = [...excludedCount].filter(([, n]) => n === children.length).map(([user]) => user);
    for (const user of found) out.push({ user, has: true, excluded });
    return { errors, cycle: false };
  }

  private expandUsersIntersection(
    request: ExpandRequest,
    children: Userset[],
    filter: UserFilter,
    out: FoundUser[],
  ): Expansion {
    const errors: FgaServerError[] = [];
    const wildcard = `${filter.type}:*`;
    let wildcards = 0;
    const counts = new Map<string, number>();
    const excluded = new Set<string>();
    for (const child of children) {
      const users: FoundUser[] = [];
      errors.push(...this.expandUsersRewrite(request, child, filter, users).errors);
      const seen = new Set<string>();
      for (const user of users) {
        for (const e of user.excluded ?? []) excluded.add(e);
        if (user.has) seen.add(user.user);
      }
      const hasWildcard = seen.has(wildcard);
      if (hasWildcard) wildcards++;
      // A user found next to a wildcard of the same operand counts through the wildcard only.
      for (const user of seen) counts.set(user, (counts.get(user) ?? 0) + (hasWildcard ? 0 : 1));
    }
    for (const [user, count] of counts) {
      if (excluded.has(user)) continue;
      if (count + wildcards === children.length) out.push({ user, has: true, excluded: [...excluded] });
    }
    return { errors, cycle: false };
  }

  /**
   * Exclusion as the server's list-users computes it. When the subtracted side entered a cycle the server
   * drops the whole operation (no users, no error); when the base has a wildcard the subtracted users come
   * back as explicitly not related. Both are mirrored as they are.
   */
  private expandUsersExclusion(
    request: ExpandRequest,
    difference: NonNullable<Userset["difference"]>,
    filter: UserFilter,
    out: FoundUser[],
  ): Expansion {
    const baseUsers: FoundUser[] = [];
    const subtractUsers: FoundUser[] = [];
    const baseExpansion = this.expandUsersRewrite(request, difference.base, filter, baseUsers);
    const subtractExpansion = this.expandUsersRewrite(request, difference.subtract, filter, subtractUsers);
    const base = new Map(baseUsers.map((u) => [u.user, u]));
    const subtract = new Map(subtractUsers.map((u) => [u.user, u]));
    if (subtractExpansion.cycle) return { errors: [], cycle: false };
    const wildcard = `${filter.type}:*`;
    const baseWildcard = base.has(wildcard);
    const subtractWildcard = subtract.has(wildcard);
    for (const [user, found] of base) {
      const subtracted = subtract.get(user);
      if (baseWildcard) {
        if (!subtracted && !subtractWildcard) out.push({ user, has: true });
        for (const [other, otherFound] of subtract) {
          if (isTypedWildcard(other)) {
            if (!subtracted) out.push({ user, has: false });
            continue;
          }
          if (!otherFound.has) out.push({ user: other, has: true });
          else out.push({ user: other, has: false, excluded: [other] });
        }
      } else if (subtractWildcard || subtracted) {
        // A user missing from the subtracted side reads as related there (the server's zero value).
        out.push({ user, has: !(subtracted?.has ?? true) });
      } else {
        out.push({ user, has: found.has });
      }
    }
    return { errors: [...baseExpansion.errors, ...subtractExpansion.errors], cycle: false };
  }

  // ---- expand -----------------------------------------------------------------------------------------

  private readableTuples(object: string, relation: string): TupleKey[] {
    return this.tuples.read(object, relation).filter((t) => this.model.isReadable(t));
  }

  private expandRewrite(object: string, relation: string, rewrite: Userset): ExpandNode {
    const name = `${object}#${relation}`;
    if (rewrite.this) {
      return { name, leaf: { users: { users: this.readableTuples(object, relation).map((t) => t.user) } } };
    }
    if (rewrite.computedUserset) {
      return { name, leaf: { computed: { userset: `${object}#${rewrite.computedUserset.relation ?? ""}` } } };
    }
    if (rewrite.tupleToUserset) {
      const { tupleset, computedUserset } = rewrite.tupleToUserset;
      const computed = this.readableTuples(object, tupleset.relation ?? "")
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
 * The server's union: the first branch that allows settles it; otherwise an error in any branch fails it;
 * otherwise it denies, carrying a cycle if any branch met one.
 */
function union(branches: (() => Outcome)[]): Outcome {
  let failure: Failure | undefined;
  let cycle = false;
  for (const branch of branches) {
    const outcome = branch();
    if (isFailure(outcome)) failure ??= outcome;
    else if (outcome.allowed) return outcome;
    else cycle ||= outcome.cycle;
  }
  return failure ?? { allowed: false, cycle };
}

/**
 * The server's intersection: any operand that denies (or met a cycle) denies, even next to errors. The server
 * reports whichever denial reaches it first; a cycle is only found one resolution deeper, so a denial
 * without a cycle comes first when there is one, and the result carries a cycle only when every denial
 * does (with `cycleFirst`, when any does: the race's other outcome). (That flag decides an enclosing
 * exclusion: a cyclic subtracted side denies it.)
 */
function intersection(branches: (() => Outcome)[], cycleFirst: boolean): Outcome {
  let failure: Failure | undefined;
  const denials: Resolution[] = [];
  for (const branch of branches) {
    const outcome = branch();
    if (isFailure(outcome)) failure ??= outcome;
    else if (!outcome.allowed || outcome.cycle) denials.push(outcome);
  }
  if (denials.length > 0) {
    return {
      allowed: false,
      cycle: cycleFirst ? denials.some((d) => d.cycle) : denials.every((d) => d.cycle),
    };
  }
  return failure ?? ALLOWED;
}

/**
 * The server's exclusion: a base that denies or met a cycle denies; a subtracted side that allows or met a
 * cycle denies (so a cycle cuts off an exclusion however the other side ends); errors count only then. As
 * for intersections, the result carries a cycle only when every side that settled it met one.
 */
function exclusion(base: () => Outcome, subtract: () => Outcome, cycleFirst: boolean): Outcome {
  const b = base();
  const s = subtract();
  const settling: Resolution[] = [];
  if (!isFailure(b) && (!b.allowed || b.cycle)) settling.push(b);
  if (!isFailure(s) && (s.allowed || s.cycle)) settling.push(s);
  if (settling.length > 0) {
    return {
      allowed: false,
      cycle: cycleFirst ? settling.some((o) => o.cycle) : settling.every((o) => o.cycle),
    };
  }
  if (isFailure(b)) return b;
  if (isFailure(s)) return s;
  return ALLOWED;
}

/** Strongly connected components of a graph (Tarjan), each after every component it depends on. */
function stronglyConnected(nodes: string[], dependencies: (node: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of dependencies(node)) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
        onStack.delete(member);
        group.push(member);
        if (member === node) break;
      }
      groups.push(group);
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return groups;
}
