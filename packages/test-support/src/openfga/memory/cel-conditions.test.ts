import { describe, expect, it } from "vitest";
import {
  ConditionCompileError,
  type ConditionDefinition,
  ConditionEvaluationError,
  compileCondition,
  validateConditionContext,
} from "./cel-conditions.js";

const define = (expression: string, parameters: ConditionDefinition["parameters"]): ConditionDefinition => ({
  name: "cond",
  expression,
  parameters,
});
const T = (type_name: string, generic?: string) => ({
  type_name,
  ...(generic ? { generic_types: [{ type_name: generic }] } : {}),
});

describe("compileCondition evaluates OpenFGA's parameter types", () => {
  it.each([
    ["x < 100", { x: T("TYPE_NAME_INT") }, { x: 10 }, true],
    ["x < 100", { x: T("TYPE_NAME_INT") }, { x: 101 }, false],
    ["x > 1u", { x: T("TYPE_NAME_UINT") }, { x: 2 }, true],
    ["x > 0.5", { x: T("TYPE_NAME_DOUBLE") }, { x: 0.75 }, true],
    ["s == 'hello'", { s: T("TYPE_NAME_STRING") }, { s: "hello" }, true],
    ["b", { b: T("TYPE_NAME_BOOL") }, { b: false }, false],
    [
      'ts < timestamp("2023-10-11T10:00:00.000Z")',
      { ts: T("TYPE_NAME_TIMESTAMP") },
      { ts: "2023-10-10T00:00:00Z" },
      true,
    ],
    [
      'ts < timestamp("2023-10-11T10:00:00.000Z")',
      { ts: T("TYPE_NAME_TIMESTAMP") },
      { ts: "2023-10-12T00:00:00+02:00" },
      false,
    ],
    ['d <= duration("1h30m")', { d: T("TYPE_NAME_DURATION") }, { d: "90m" }, true],
    ['d <= duration("1h30m")', { d: T("TYPE_NAME_DURATION") }, { d: "1h30m0.001s" }, false],
    [
      "now - start < ttl",
      { now: T("TYPE_NAME_TIMESTAMP"), start: T("TYPE_NAME_TIMESTAMP"), ttl: T("TYPE_NAME_DURATION") },
      { now: "2024-01-01T00:10:00Z", start: "2024-01-01T00:00:00Z", ttl: "15m" },
      true,
    ],
    ['ip.in_cidr("10.0.0.0/8")', { ip: T("TYPE_NAME_IPADDRESS") }, { ip: "10.20.30.40" }, true],
    ['ip.in_cidr("10.0.0.0/8")', { ip: T("TYPE_NAME_IPADDRESS") }, { ip: "11.0.0.1" }, false],
    ['ip.in_cidr("2001:db8::/32")', { ip: T("TYPE_NAME_IPADDRESS") }, { ip: "2001:db8::1" }, true],
    ['ip.in_cidr("2001:db8::/32")', { ip: T("TYPE_NAME_IPADDRESS") }, { ip: "10.0.0.1" }, false],
    [
      "'admin' in roles",
      { roles: T("TYPE_NAME_LIST", "TYPE_NAME_STRING") },
      { roles: ["user", "admin"] },
      true,
    ],
    ["size(ids) == 2 && ids[1] == 7", { ids: T("TYPE_NAME_LIST", "TYPE_NAME_INT") }, { ids: [3, 7] }, true],
    [
      "attrs['team'] == 'eng'",
      { attrs: T("TYPE_NAME_MAP", "TYPE_NAME_STRING") },
      { attrs: { team: "eng" } },
      true,
    ],
    ["v == 'x'", { v: T("TYPE_NAME_ANY") }, { v: "x" }, true],
  ] as const)("%s with %j", (expression, parameters, context, expected) => {
    const condition = compileCondition(define(expression, parameters));
    expect(condition.evaluate(undefined, context)).toEqual({ met: expected, missingParameters: [] });
  });
});

describe("contexts", () => {
  const condition = compileCondition(
    define("x < 100 || y < 50", { x: T("TYPE_NAME_INT"), y: T("TYPE_NAME_INT") }),
  );

  it("lets the tuple's context win over the request's", () => {
    const lessThan = compileCondition(define("x < 100", { x: T("TYPE_NAME_INT") }));
    expect(lessThan.evaluate({ x: 500 }, { x: 1 }).met).toBe(false);
    expect(lessThan.evaluate({ x: 1 }, { x: 500 }).met).toBe(true);
  });

  it("reports every missing parameter, even where the expression could be decided without it", () => {
    expect(condition.evaluate(undefined, { x: 10 })).toEqual({ met: false, missingParameters: ["y"] });
    expect(condition.evaluate(undefined, undefined)).toEqual({ met: false, missingParameters: ["x", "y"] });
  });

  it.each([
    [
      { x: "abc" },
      "parameter type error on condition 'cond' - failed to convert context parameter 'x': expected a int64 value, but found invalid string value 'abc'",
    ],
    [
      { x: 1.5 },
      "failed to convert context parameter 'x': expected an int value, but found numeric value '1.5'",
    ],
    [{ x: true }, "failed to convert context parameter 'x': expected type value 'int64', but found 'bool'"],
  ])("rejects a wrong-typed value %j with the server's message", (context, message) => {
    expect(() => condition.evaluate(undefined, { y: 1, ...context })).toThrow(ConditionEvaluationError);
    expect(() => condition.evaluate(undefined, { y: 1, ...context })).toThrow(message);
  });

  it.each([
    [
      T("TYPE_NAME_TIMESTAMP"),
      "yesterday",
      "expected RFC 3339 formatted timestamp string, but found 'yesterday'",
    ],
    [T("TYPE_NAME_DURATION"), "1 hour", "expected a valid duration string, but found: '1 hour'"],
    [T("TYPE_NAME_IPADDRESS"), "10.0.0.256", "expected a well-formed IP address, but found: '10.0.0.256'"],
    [T("TYPE_NAME_LIST", "TYPE_NAME_INT"), "1,2", "list requires a list, found: string"],
    [T("TYPE_NAME_MAP", "TYPE_NAME_INT"), [1], "map requires a map, found: []interface {}"],
  ])("rejects a malformed %j value", (type, value, message) => {
    const c = compileCondition(define("true", { v: type }));
    expect(() => c.evaluate(undefined, { v: value })).toThrow(message);
  });

  it("validates a tuple's stored context on write, including undeclared keys", () => {
    const definition = define("x < 100", { x: T("TYPE_NAME_INT") });
    expect(() => validateConditionContext(definition, { x: 1 })).not.toThrow();
    expect(() => validateConditionContext(definition, { x: "no" })).toThrow(
      /failed to convert context parameter 'x'/,
    );
    expect(() => validateConditionContext(definition, { z: 1 })).toThrow(
      "found invalid context parameter: z",
    );
  });
});

describe("compile errors surface when the model is written", () => {
  it("rejects a syntax error", () => {
    expect(() => compileCondition(define("x <", { x: T("TYPE_NAME_INT") }))).toThrow(ConditionCompileError);
  });

  it("rejects operands of mismatched types", () => {
    expect(() => compileCondition(define('x < "a"', { x: T("TYPE_NAME_INT") }))).toThrow(
      /failed to compile expression on condition 'cond' - .*no matching overload/,
    );
  });

  it("rejects an expression that is not a bool", () => {
    expect(() => compileCondition(define("x + 1", { x: T("TYPE_NAME_INT") }))).toThrow(/expected a bool/);
  });

  it("rejects an unknown parameter type the way the server reads it (as TYPE_NAME_UNSPECIFIED)", () => {
    expect(() => compileCondition(define("true", { x: T("TYPE_NAME_COLOR") }))).toThrow(
      "failed to decode parameter type for parameter 'x': unknown condition parameter type `TYPE_NAME_UNSPECIFIED`",
    );
  });

  it("rejects a list without its element type", () => {
    expect(() => compileCondition(define("size(x) > 0", { x: T("TYPE_NAME_LIST") }))).toThrow(
      "condition parameter type `TYPE_NAME_LIST` requires 1 generic types; found 0",
    );
  });

  it.each([
    ["y > 1", "undeclared reference to 'y' (in container '')"],
    ["x > 1.5", "found no matching overload for '_>_' applied to '(int, double)'"],
    ['x + "a" == "b"', "found no matching overload for '_+_' applied to '(int, string)'"],
    ["x > 1 && 'a'", "expected type 'bool' but found 'string'"],
  ])("type-checks %s as cel-go does", (expression, message) => {
    expect(() => compileCondition(define(expression, { x: T("TYPE_NAME_INT") }))).toThrow(message);
  });

  it("points at the operator, with cel-go's location and caret", () => {
    expect(() => compileCondition(define("x > 1.5", { x: T("TYPE_NAME_INT") }))).toThrow(
      "ERROR: cond:1:3: found no matching overload for '_>_' applied to '(int, double)'\n | x > 1.5\n | ..^",
    );
  });

  it.each(["x < 10", "[1, 2].exists(i, i == x)", "string(x) == 'a'"])("accepts %s", (expression) => {
    expect(() => compileCondition(define(expression, { x: T("TYPE_NAME_INT") }))).not.toThrow();
  });
});
