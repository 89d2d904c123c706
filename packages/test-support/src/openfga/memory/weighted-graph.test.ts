import { transformer } from "@openfga/syntax-transformer";
import { describe, expect, it } from "vitest";
import type { AuthorizationModel } from "./model.js";
import { INFINITE, WeightedGraph } from "./weighted-graph.js";

const graphOf = (dsl: string) =>
  WeightedGraph.build({
    id: "m",
    ...(transformer.transformDSLToJSONObject(dsl) as object),
  } as AuthorizationModel);
const header = "model\n  schema 1.1\ntype user\n";

describe("the server's weighted graph", () => {
  it("weighs a relation by the tuple reads it can take per user type", () => {
    const graph = graphOf(
      `${header}type group\n  relations\n    define member: [user]\ntype doc\n  relations\n    define parent: [group]\n    define viewer: [user, group#member] or member from parent\n`,
    );
    expect(graph?.node("group#member")?.weights.get("user")).toBe(1);
    expect(graph?.node("doc#viewer")?.weights.get("user")).toBe(2);
    expect(graph?.usersetUsesWeight2("doc", "viewer", "user", "group#member")).toBe(true);
    expect(graph?.ttuUsesWeight2("doc", "viewer", "user", "parent", "member")).toBe(true);
  });

  it("marks a recursive relation infinite, and resolves it level by level", () => {
    const graph = graphOf(`${header}type group\n  relations\n    define member: [user, group#member]\n`);
    expect(graph?.node("group#member")?.weights.get("user")).toBe(INFINITE);
    expect(graph?.node("group#member")?.recursiveRelation).toBe("group#member");
    expect(graph?.usersetUsesRecursive("group", "member", "user")).toBe(true);
    expect(graph?.usersetUsesWeight2("group", "member", "user", "group#member")).toBe(false);
  });

  it("marks a cycle through two relations as a tuple cycle, not a recursion", () => {
    const graph = graphOf(
      `${header}type group\n  relations\n    define member: [user, group#owner]\n    define owner: [user, group#member]\n`,
    );
    expect(graph?.node("group#member")?.tupleCycle).toBe(true);
    expect(graph?.usersetUsesRecursive("group", "member", "user")).toBe(false);
  });

  it.each([
    [
      "an intersection inside a tuple cycle",
      "define member: [user, group#member] and allowed\n    define allowed: [user]",
    ],
    [
      "an intersection whose operands share no type",
      "define a: [user]\n    define b: [group]\n    define c: a and b",
    ],
  ])("does not exist for %s, as on the server (which then takes its older code paths)", (_, relations) => {
    expect(graphOf(`${header}type group\n  relations\n    ${relations}\n`)).toBeUndefined();
  });
});
