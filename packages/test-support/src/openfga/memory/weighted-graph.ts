// The server's weighted model graph (OpenFGA language v0.2.1, WeightedAuthorizationModelGraph): for each
// relation and each user type, how many tuple reads resolving it can take (1, 2, ..., or infinite through a
// recursive relation or a tuple cycle). The server picks its check strategy from these weights (reading
// from the user's side when a path is short), and it has no weighted graph at all for some models, which
// sends it down its older code paths. Those choices decide which conditions it evaluates and which errors
// it reports, so the double computes the same graph. Written from the algorithm, not copied.
import type { AuthorizationModel, RelationReference, TypeDefinition, Userset } from "./model.js";

export const INFINITE = 2147483647;

type NodeType = "type" | "relation" | "operator" | "wildcard" | "direct-group" | "ttu-group";
type EdgeType = "direct" | "rewrite" | "ttu" | "computed" | "direct-logical" | "ttu-logical";

class GraphError extends Error {}

export class WeightedNode {
  weights = new Map<string, number>();
  recursiveRelation = "";
  tupleCycle = false;
  constructor(
    readonly uniqueLabel: string,
    readonly label: string,
    readonly nodeType: NodeType,
  ) {}
}

export class WeightedEdge {
  weights = new Map<string, number>();
  recursiveRelation = "";
  tupleCycle = false;
  /** The conditions of the type restrictions this edge stands for ("" for none). */
  readonly conditions: string[] = [];
  constructor(
    readonly from: WeightedNode,
    readonly to: WeightedNode,
    readonly edgeType: EdgeType,
    readonly tuplesetRelation: string,
    /** The relation whose definition made this edge (type#relation), also when it hangs off an operator. */
    readonly relationDefinition: string,
  ) {}
}

const isLogicalOperator = (n: WeightedNode) =>
  n.nodeType === "operator" || n.nodeType === "ttu-group" || n.nodeType === "direct-group";
const isLogicalUnion = (n: WeightedNode) =>
  (n.nodeType === "operator" && n.label === "union") ||
  n.nodeType === "ttu-group" ||
  n.nodeType === "direct-group";
const isTerminal = (n: WeightedNode) => n.nodeType === "type" || n.nodeType === "wildcard";

function mergeMax(into: Map<string, number>, key: string, value: number): void {
  const current = into.get(key);
  into.set(key, current === undefined ? value : Math.max(current, value));
}

/** The weighted graph of a model, or undefined where the server's builder fails (then it has none). */
export class WeightedGraph {
  readonly nodes = new Map<string, WeightedNode>();
  readonly edges = new Map<string, WeightedEdge[]>();
  private operators = 0;

  static build(model: AuthorizationModel): WeightedGraph | undefined {
    const graph = new WeightedGraph();
    try {
      graph.parse(model);
      graph.assignWeights();
      return graph;
    } catch (error) {
      if (error instanceof GraphError) return undefined;
      throw error;
    }
  }

  node(label: string): WeightedNode | undefined {
    return this.nodes.get(label);
  }

  edgesFrom(label: string): WeightedEdge[] | undefined {
    return this.edges.get(label);
  }

  private addNode(label: string, name: string, nodeType: NodeType): WeightedNode {
    let node = this.nodes.get(label);
    if (!node) {
      node = new WeightedNode(label, name, nodeType);
      this.nodes.set(label, node);
    }
    return node;
  }

  private addEdge(
    from: WeightedNode,
    to: WeightedNode,
    edgeType: EdgeType,
    tuplesetRelation: string,
    definition: string,
    condition = "",
  ): void {
    const list = this.edges.get(from.uniqueLabel) ?? [];
    const edge = new WeightedEdge(from, to, edgeType, tuplesetRelation, definition);
    edge.conditions.push(condition);
    list.push(edge);
    this.edges.set(from.uniqueLabel, list);
  }

  /** One edge per (from, to, kind, tupleset); each condition of the restrictions it stands for is noted on it. */
  private upsertEdge(
    from: WeightedNode,
    to: WeightedNode,
    edgeType: EdgeType,
    tuplesetRelation: string,
    definition: string,
    condition: string,
  ): void {
    const existing = this.edges
      .get(from.uniqueLabel)
      ?.find((e) => e.to === to && e.edgeType === edgeType && e.tuplesetRelation === tuplesetRelation);
    if (!existing) this.addEdge(from, to, edgeType, tuplesetRelation, definition, condition);
    else if (!existing.conditions.includes(condition)) existing.conditions.push(condition);
  }

  private parse(model: AuthorizationModel): void {
    const definitions = [...model.type_definitions].sort((a, b) =>
      a.type < b.type ? -1 : a.type > b.type ? 1 : 0,
    );
    for (const definition of definitions) {
      this.addNode(definition.type, definition.type, "type");
      for (const relation of Object.keys(definition.relations ?? {}).sort()) {
        const label = `${definition.type}#${relation}`;
        const parent = this.addNode(label, label, "relation");
        this.parseRewrite(model, parent, definition.relations?.[relation] ?? {}, definition, relation);
      }
    }
  }

  private parseRewrite(
    model: AuthorizationModel,
    parent: WeightedNode,
    rewrite: Userset,
    definition: TypeDefinition,
    relation: string,
  ): void {
    if (rewrite.this) {
      this.parseThis(parent, definition, relation);
      return;
    }
    if (rewrite.computedUserset) {
      const label = `${definition.type}#${rewrite.computedUserset.relation ?? ""}`;
      const target = this.addNode(label, label, "relation");
      this.addEdge(
        parent,
        target,
        parent.nodeType === "relation" ? "computed" : "rewrite",
        "",
        `${definition.type}#${relation}`,
      );
      return;
    }
    if (rewrite.tupleToUserset) {
      this.parseTupleToUserset(model, parent, rewrite.tupleToUserset, definition, relation);
      return;
    }
    const operator = rewrite.union ? "union" : rewrite.intersection ? "intersection" : "exclusion";
    const children = rewrite.union?.child ??
      rewrite.intersection?.child ?? [rewrite.difference?.base ?? {}, rewrite.difference?.subtract ?? {}];
    const node = this.addNode(`${operator}:${++this.operators}`, operator, "operator");
    this.addEdge(parent, node, "rewrite", "", `${definition.type}#${relation}`);
    for (const child of children) this.parseRewrite(model, node, child, definition, relation);
  }

  private parseThis(parent: WeightedNode, definition: TypeDefinition, relation: string): void {
    const types: readonly RelationReference[] =
      definition.metadata?.relations?.[relation]?.directly_related_user_types ?? [];
    let from = parent;
    // Under an operator, several restrictions are grouped under one logical node (a union of them).
    if (parent.nodeType !== "relation" && types.length > 1) {
      const label = `${definition.type}#direct:${relation}`;
      from = this.addNode(label, label, "direct-group");
      this.addEdge(parent, from, "direct-logical", "", `${definition.type}#${relation}`);
    }
    for (const r of types) {
      const target = r.relation
        ? this.addNode(`${r.type}#${r.relation}`, `${r.type}#${r.relation}`, "relation")
        : r.wildcard
          ? this.addNode(`${r.type}:*`, `${r.type}:*`, "wildcard")
          : this.addNode(r.type, r.type, "type");
      this.upsertEdge(from, target, "direct", "", `${definition.type}#${relation}`, r.condition ?? "");
    }
  }

  private parseTupleToUserset(
    model: AuthorizationModel,
    parent: WeightedNode,
    ttu: NonNullable<Userset["tupleToUserset"]>,
    definition: TypeDefinition,
    relation: string,
  ): void {
    const tupleset = ttu.tupleset.relation ?? "";
    const computed = ttu.computedUserset.relation ?? "";
    const entry = definition.metadata?.relations?.[tupleset];
    if (!entry) throw new GraphError(`invalid tupleset relation ${tupleset}`);
    const types = entry.directly_related_user_types ?? [];
    if (types.length === 0) throw new GraphError(`no types on tupleset relation ${tupleset}`);
    const tuplesetKey = `${definition.type}#${tupleset}`;
    let from = parent;
    if (parent.nodeType !== "relation" && types.length > 1) {
      const label = `${definition.type}#ttu:${tupleset}#${computed}`;
      from = this.addNode(label, label, "ttu-group");
      this.addEdge(parent, from, "ttu-logical", tuplesetKey, `${definition.type}#${relation}`);
    }
    for (const r of types) {
      // Every type a tupleset allows must define the computed relation, or the server builds no graph.
      const parentDefinition = model.type_definitions.find((t) => t.type === r.type);
      if (!parentDefinition?.relations?.[computed])
        throw new GraphError(`${r.type} does not define ${computed}`);
      const label = `${r.type}#${computed}`;
      const target = this.addNode(label, label, "relation");
      // One edge per parent type: the tupleset's conditions stay on the tupleset's own direct edges.
      if (
        this.edges
          .get(from.uniqueLabel)
          ?.some((e) => e.to === target && e.edgeType === "ttu" && e.tuplesetRelation === tuplesetKey)
      ) {
        continue;
      }
      this.upsertEdge(from, target, "ttu", tuplesetKey, `${definition.type}#${relation}`, r.condition ?? "");
    }
  }

  // ---- the server's choice of check strategy (its typesystem's *Use*Resolver predicates) --------------

  /** A userset restriction resolved from the user's side: the userset has weight 1 for the user type. */
  usersetUsesWeight2(objectType: string, relation: string, userType: string, userset: string): boolean {
    const node = this.nodes.get(`${objectType}#${relation}`);
    if (!node || node.tupleCycle || node.recursiveRelation) return false;
    return this.nodes.get(userset)?.weights.get(userType) === 1;
  }

  /** A tuple-to-userset resolved from the user's side: its edges for this tupleset weigh at most 2. */
  ttuUsesWeight2(
    objectType: string,
    relation: string,
    userType: string,
    tupleset: string,
    computed: string,
  ): boolean {
    const node = this.nodes.get(`${objectType}#${relation}`);
    if (!node?.weights.has(userType)) return false;
    let edges = this.edges.get(node.uniqueLabel);
    if (!edges) return false;
    const found: WeightedEdge[] = [];
    while (found.length === 0) {
      const inner: WeightedEdge[] = [];
      for (const edge of edges) {
        if (edge.edgeType === "rewrite") {
          const next = this.edges.get(edge.to.uniqueLabel);
          if (!next) return false;
          inner.push(...next);
        }
        if (
          edge.edgeType === "ttu" &&
          edge.tuplesetRelation === `${objectType}#${tupleset}` &&
          edge.to.uniqueLabel.endsWith(`#${computed}`)
        ) {
          const weight = edge.weights.get(userType);
          if (weight !== undefined) {
            if (weight > 2) return false;
            found.push(edge);
          }
        }
      }
      if (inner.length === 0) break;
      edges = inner;
    }
    return found.length > 0;
  }

  /** A recursive tuple-to-userset (viewer from parent, parent of the same type) walked level by level. */
  ttuUsesRecursive(objectType: string, relation: string, userType: string): boolean {
    return this.usesRecursive(objectType, relation, userType, "ttu", "ttu-logical");
  }

  /** A recursive userset (member: [group#member]) walked level by level. */
  usersetUsesRecursive(objectType: string, relation: string, userType: string): boolean {
    return this.usesRecursive(objectType, relation, userType, "direct", "direct-logical");
  }

  private usesRecursive(
    objectType: string,
    relation: string,
    userType: string,
    recursiveEdge: EdgeType,
    logicalEdge: EdgeType,
  ): boolean {
    const label = `${objectType}#${relation}`;
    const node = this.nodes.get(label);
    if (!node || node.weights.get(userType) !== INFINITE) return false;
    if (node.recursiveRelation !== node.uniqueLabel || node.tupleCycle) return false;
    let edges = this.edges.get(label);
    if (!edges) return false;
    let found = false;
    while (edges.length > 0) {
      const inner: WeightedEdge[] = [];
      for (const edge of edges) {
        const weight = edge.weights.get(userType);
        if (weight === undefined) continue;
        if (edge.recursiveRelation === label) {
          if (edge.edgeType === recursiveEdge && edge.to === node && !found) {
            found = true;
            continue;
          }
          if (edge.edgeType === "rewrite" || edge.edgeType === logicalEdge) {
            const next = this.edges.get(edge.to.uniqueLabel);
            if (!next) return false;
            inner.push(...next);
            continue;
          }
        }
        // Everything else on the way must be resolvable with one read.
        if (weight > 1) return false;
      }
      if (inner.length === 0) break;
      edges = inner;
    }
    return found;
  }

  // ---- weights ----------------------------------------------------------------------------------------

  private assignWeights(): void {
    const visited = new Set<string>();
    const dependencies = new Map<string, WeightedEdge[]>();
    for (const [label, node] of this.nodes) {
      if (isLogicalOperator(node) || visited.has(label)) continue;
      const cycles = this.nodeWeight(label, visited, [], dependencies);
      if (cycles.length > 0) throw new GraphError(`${cycles.length} tuple cycles found without resolution`);
    }
  }

  private depend(dependencies: Map<string, WeightedEdge[]>, label: string, edge: WeightedEdge): void {
    const list = dependencies.get(label) ?? [];
    list.push(edge);
    dependencies.set(label, list);
  }

  private nodeWeight(
    label: string,
    visited: Set<string>,
    path: WeightedEdge[],
    dependencies: Map<string, WeightedEdge[]>,
  ): string[] {
    const node = this.nodes.get(label) as WeightedNode;
    if (visited.has(label) || isTerminal(node)) return [];
    visited.add(label);
    const cycles: string[] = [];
    for (const edge of this.edges.get(label) ?? []) {
      if (edge.weights.size > 0) continue;
      if (isTerminal(edge.to)) {
        const key = edge.to.nodeType === "wildcard" ? edge.to.uniqueLabel.slice(0, -2) : edge.to.uniqueLabel;
        edge.weights = new Map([[key, 1]]);
        continue;
      }
      cycles.push(...this.edgeWeight(edge, path, visited, dependencies));
    }
    return this.weightFromEdges(label, dependencies, cycles);
  }

  private edgeWeight(
    edge: WeightedEdge,
    ancestors: WeightedEdge[],
    visited: Set<string>,
    dependencies: Map<string, WeightedEdge[]>,
  ): string[] {
    if (edge.from === edge.to) {
      edge.weights = new Map([[`R#${edge.to.uniqueLabel}`, INFINITE]]);
      this.depend(dependencies, edge.to.uniqueLabel, edge);
      markRecursive([edge], edge.from.uniqueLabel);
      return [edge.from.uniqueLabel];
    }
    const path = [...ancestors, edge];
    const cycles = this.nodeWeight(edge.to.uniqueLabel, visited, path, dependencies);
    if (edge.to.weights.size === 0) {
      if (isTupleCycle(edge.to.uniqueLabel, path)) {
        edge.weights = new Map([[`R#${edge.to.uniqueLabel}`, INFINITE]]);
        this.depend(dependencies, edge.to.uniqueLabel, edge);
        cycles.push(edge.to.uniqueLabel);
        return cycles;
      }
      throw new GraphError("model cycle");
    }
    const inCycle = cycles.length > 0;
    if (inCycle) for (const label of cycles) this.depend(dependencies, label, edge);
    const weights = new Map<string, number>();
    for (const [key, value] of edge.to.weights) {
      if (!inCycle && key.startsWith("R#")) {
        this.depend(dependencies, key.slice(2), edge);
        cycles.push(key.slice(2));
      }
      weights.set(key, value);
    }
    if (edge.edgeType === "ttu" || edge.edgeType === "direct") {
      for (const [key, value] of weights) if (value !== INFINITE) weights.set(key, value + 1);
    }
    edge.weights = weights;
    return cycles;
  }

  private weightFromEdges(
    label: string,
    dependencies: Map<string, WeightedEdge[]>,
    cycles: string[],
  ): string[] {
    const node = this.nodes.get(label) as WeightedNode;
    if (cycles.length === 0) {
      if (node.nodeType !== "operator" || node.label === "union") this.maxStrategy(node);
      else if (node.label === "intersection") this.enforceTypeStrategy(node);
      else this.mixedStrategy(node);
      return cycles;
    }
    if (node.nodeType === "relation" && cycles.includes(label)) {
      this.weightAndFixDependencies(node, dependencies);
      return cycles.filter((c) => c !== label);
    }
    if (!isLogicalOperator(node)) {
      this.maxStrategy(node);
      return cycles;
    }
    if (isLogicalUnion(node)) {
      if (cycles.includes(label)) {
        this.weightAndFixDependencies(node, dependencies);
        return cycles.filter((c) => c !== label);
      }
      this.maxStrategy(node);
      return cycles;
    }
    // An intersection or exclusion inside a tuple cycle: the server builds no graph.
    throw new GraphError("operands AND or BUT NOT cannot be involved in a cycle");
  }

  private maxStrategy(node: WeightedNode): void {
    const edges = this.edges.get(node.uniqueLabel) ?? [];
    if (edges.length === 0 && !isTerminal(node)) throw new GraphError(`${node.uniqueLabel} reaches no type`);
    const weights = new Map<string, number>();
    for (const edge of edges) for (const [key, value] of edge.weights) mergeMax(weights, key, value);
    node.weights = weights;
  }

  /** A but not B: the types of A, with B's weight where B has the type too. */
  private mixedStrategy(node: WeightedNode): void {
    const edges = this.edges.get(node.uniqueLabel) ?? [];
    if (edges.length !== 2)
      throw new GraphError(`invalid number of edges for exclusion node ${node.uniqueLabel}`);
    const weights = new Map(edges[0]?.weights);
    for (const [key, value] of edges[1]?.weights ?? []) if (weights.has(key)) mergeMax(weights, key, value);
    node.weights = weights;
  }

  /** A and B: only the types every operand has. */
  private enforceTypeStrategy(node: WeightedNode): void {
    const edges = this.edges.get(node.uniqueLabel) ?? [];
    if (edges.length === 0) throw new GraphError(`${node.uniqueLabel} reaches no type`);
    const weights = new Map(edges[0]?.weights);
    for (const edge of edges.slice(1)) {
      for (const [key, value] of [...weights]) {
        const other = edge.weights.get(key);
        if (other === undefined) weights.delete(key);
        else weights.set(key, Math.max(value, other));
      }
    }
    node.weights = weights;
    if (weights.size === 0)
      throw new GraphError(`not all paths return the same type for the node ${node.uniqueLabel}`);
  }

  private weightAndFixDependencies(node: WeightedNode, dependencies: Map<string, WeightedEdge[]>): void {
    const reference = `R#${node.uniqueLabel}`;
    const edges = this.edges.get(node.uniqueLabel) ?? [];
    if (edges.length === 0) throw new GraphError(`${node.uniqueLabel} reaches no type`);
    const weights = new Map<string, number>();
    const references: string[] = [];
    for (const edge of edges) {
      for (const key of edge.weights.keys()) {
        if (key === reference) continue;
        if (key.startsWith("R#")) references.push(key);
        weights.set(key, INFINITE);
      }
    }
    node.weights = weights;
    const dependants = [...(dependencies.get(node.uniqueLabel) ?? [])];
    for (const edge of dependants) {
      const merged = new Map<string, number>();
      for (const [key, value] of edge.weights) {
        if (key !== reference) {
          mergeMax(merged, key, value);
          continue;
        }
        for (const [k, v] of node.weights) {
          if (!merged.has(k)) {
            merged.set(k, v);
            if (references.length > 0 && k.startsWith("R#")) this.depend(dependencies, k.slice(2), edge);
          } else mergeMax(merged, k, v);
        }
      }
      edge.weights = merged;
      if (node.tupleCycle) edge.tupleCycle = true;
    }
    for (const edge of dependants) {
      const from = edge.from;
      const merged = new Map<string, number>();
      for (const [key, value] of from.weights) {
        if (key === reference) for (const [k, v] of node.weights) mergeMax(merged, k, v);
        else mergeMax(merged, key, value);
      }
      from.weights = merged;
      if (node.tupleCycle) from.tupleCycle = true;
    }
    dependencies.delete(node.uniqueLabel);
  }
}

/** Whether the way back to `label` on `path` reads tuples (a tuple cycle) rather than only rewrites (a model cycle). */
function isTupleCycle(label: string, path: WeightedEdge[]): boolean {
  let tracking = false;
  let tupleCycle = false;
  let recursiveRelation = "";
  let recursion = true;
  const cycle: WeightedEdge[] = [];
  for (const edge of path) {
    if (!tracking && edge.from.uniqueLabel === label) {
      tracking = true;
      if (edge.from.nodeType === "relation") recursiveRelation = label;
    }
    if (!tracking) continue;
    cycle.push(edge);
    if (edge.edgeType === "ttu" || (edge.edgeType === "direct" && edge.to.nodeType === "relation"))
      tupleCycle = true;
    if (edge.to.nodeType === "relation") {
      if (!recursiveRelation) recursiveRelation = edge.to.uniqueLabel;
      else if (edge.to.uniqueLabel !== recursiveRelation) recursion = false;
    }
  }
  if (tupleCycle) {
    if (recursion) markRecursive(cycle, recursiveRelation);
    else
      for (const edge of cycle) {
        edge.from.tupleCycle = true;
        edge.to.tupleCycle = true;
        edge.tupleCycle = true;
      }
  }
  return tupleCycle;
}

function markRecursive(edges: WeightedEdge[], relation: string): void {
  for (const edge of edges) {
    edge.from.recursiveRelation = relation;
    edge.to.recursiveRelation = relation;
    edge.recursiveRelation = relation;
  }
}
