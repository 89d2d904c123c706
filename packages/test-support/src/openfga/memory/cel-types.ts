// Static types of a condition expression, for the checks cel-go's type checker makes when the server
// compiles a condition: an operator applied to operands it has no overload for (`x > 1.5` with `x` an int,
// `x + "a"`), and an expression whose result is not a bool. A walk over @bufbuild/cel's parse tree with the
// standard overloads; nothing is evaluated, and anything it does not know is dynamic and accepted.
import type { parse } from "@bufbuild/cel";

type Parsed = ReturnType<typeof parse>;
type Expr = NonNullable<Parsed["expr"]>;

/** A CEL type, as cel-go names it in its messages. */
export type CelTypeName = string;

const DYN = "dyn";
const ERROR = "!error";
/** The result of a function this checker does not know: accepted anywhere, and as an output. */
export const UNKNOWN = "?";
const list = (element: CelTypeName) => `list(${element})`;
const map = (key: CelTypeName, value: CelTypeName) => `map(${key}, ${value})`;
/** A parameter of type `any` (cel-go declares it as google.protobuf.Any, which checks like dyn). */
export const ANY = "google.protobuf.Any";
const isDyn = (t: CelTypeName) => t === DYN || t === ERROR || t === UNKNOWN || t === ANY;
const elementOf = (t: CelTypeName) => (t.startsWith("list(") ? t.slice(5, -1) : undefined);
function mapParts(t: CelTypeName): [CelTypeName, CelTypeName] | undefined {
  if (!t.startsWith("map(")) return undefined;
  const inner = t.slice(4, -1);
  let depth = 0;
  for (let i = 0; i < inner.length; i++) {
    if (inner[i] === "(") depth++;
    else if (inner[i] === ")") depth--;
    else if (inner[i] === "," && depth === 0) return [inner.slice(0, i), inner.slice(i + 2)];
  }
  return undefined;
}

/** Whether two types can be the same type (dynamic parts match anything). */
function assignable(a: CelTypeName, b: CelTypeName): boolean {
  if (isDyn(a) || isDyn(b) || a === b) return true;
  const [ea, eb] = [elementOf(a), elementOf(b)];
  if (ea !== undefined && eb !== undefined) return assignable(ea, eb);
  const [ma, mb] = [mapParts(a), mapParts(b)];
  if (ma && mb) return assignable(ma[0], mb[0]) && assignable(ma[1], mb[1]);
  return false;
}

const NUMERIC = ["int", "uint", "double"];
const ORDERED = ["int", "uint", "double", "string", "bytes", "bool", "timestamp", "duration"];
const ARITHMETIC: Record<string, [CelTypeName, CelTypeName, CelTypeName][]> = {
  "_+_": [
    ...NUMERIC.map((t): [string, string, string] => [t, t, t]),
    ["string", "string", "string"],
    ["bytes", "bytes", "bytes"],
    ["timestamp", "duration", "timestamp"],
    ["duration", "timestamp", "timestamp"],
    ["duration", "duration", "duration"],
  ],
  "_-_": [
    ...NUMERIC.map((t): [string, string, string] => [t, t, t]),
    ["timestamp", "timestamp", "duration"],
    ["timestamp", "duration", "timestamp"],
    ["duration", "duration", "duration"],
  ],
  "_*_": NUMERIC.map((t) => [t, t, t]),
  "_/_": NUMERIC.map((t) => [t, t, t]),
  "_%_": ["int", "uint"].map((t) => [t, t, t]),
};
const COMPARISONS = new Set(["_<_", "_<=_", "_>_", "_>=_"]);
const CONVERSIONS: Record<string, CelTypeName> = {
  int: "int",
  uint: "uint",
  double: "double",
  string: "string",
  bool: "bool",
  bytes: "bytes",
  timestamp: "timestamp",
  duration: "duration",
  dyn: DYN,
  type: "type",
};
const STRING_METHODS = new Set(["contains", "startsWith", "endsWith", "matches"]);
const TIME_METHODS = new Set([
  "getFullYear",
  "getMonth",
  "getDate",
  "getDayOfMonth",
  "getDayOfWeek",
  "getDayOfYear",
  "getHours",
  "getMinutes",
  "getSeconds",
  "getMilliseconds",
]);

const INFIX: Record<string, string> = {
  "_+_": "+",
  "_-_": "-",
  "_*_": "*",
  "_/_": "/",
  "_%_": "%",
  "_<_": "<",
  "_<=_": "<=",
  "_>_": ">",
  "_>=_": ">=",
  "_==_": "==",
  "_!=_": "!=",
  "_&&_": "&&",
  "_||_": "||",
  "@in": "in",
  "_?_:_": "?",
};

/** A problem cel-go's checker reports, at an offset of the expression. */
export interface CelIssue {
  offset: number;
  message: string;
}

/** The type of the whole expression and the problems found, given each parameter's type. */
export function checkTypes(
  parsed: Parsed,
  variables: Record<string, CelTypeName>,
  source?: string,
): { output: CelTypeName; issues: CelIssue[] } {
  const issues: CelIssue[] = [];
  const positions = parsed.sourceInfo?.positions ?? {};
  const at = (expr: Expr) => {
    const offset = positions[String(expr.id)] ?? 0;
    // cel-go points at an infix operator itself; the parse tree may start just before it.
    const kind = expr.exprKind;
    if (kind.case === "callExpr" && source) {
      const symbol = INFIX[kind.value.function];
      if (symbol) {
        const found = source.indexOf(symbol, offset);
        if (found !== -1 && /^\s*$/.test(source.slice(offset, found))) return found;
      }
    }
    return offset;
  };
  const noOverload = (expr: Expr, fn: string, args: CelTypeName[], target?: CelTypeName) => {
    const shown = args.map((a) => (a === ERROR ? DYN : a)).join(", ");
    issues.push({
      offset: at(expr),
      message: `found no matching overload for '${fn}' applied to '${target ? `${target}.` : ""}(${shown})'`,
    });
    return ERROR;
  };

  const typeOf = (expr: Expr | undefined, scope: Record<string, CelTypeName>): CelTypeName => {
    if (!expr) return DYN;
    const kind = expr.exprKind;
    switch (kind.case) {
      case "constExpr": {
        const c = kind.value.constantKind.case;
        return c === "int64Value"
          ? "int"
          : c === "uint64Value"
            ? "uint"
            : c === "doubleValue"
              ? "double"
              : c === "stringValue"
                ? "string"
                : c === "boolValue"
                  ? "bool"
                  : c === "bytesValue"
                    ? "bytes"
                    : c === "nullValue"
                      ? "null_type"
                      : DYN;
      }
      case "identExpr":
        return scope[kind.value.name] ?? DYN;
      case "selectExpr": {
        const operand = typeOf(kind.value.operand, scope);
        if (kind.value.testOnly) return "bool";
        const parts = mapParts(operand);
        return parts ? parts[1] : DYN;
      }
      case "listExpr": {
        const elements = kind.value.elements.map((e) => typeOf(e, scope));
        const first = elements.find((e) => !isDyn(e));
        return list(first !== undefined && elements.every((e) => e === first) ? first : DYN);
      }
      case "structExpr": {
        const keys = kind.value.entries.map((e) =>
          e.keyKind.case === "mapKey" ? typeOf(e.keyKind.value, scope) : DYN,
        );
        const values = kind.value.entries.map((e) => typeOf(e.value, scope));
        const same = (ts: CelTypeName[]) =>
          ts.length > 0 && ts.every((t) => t === ts[0]) ? (ts[0] as string) : DYN;
        return map(same(keys), same(values));
      }
      case "comprehensionExpr": {
        const c = kind.value;
        const range = typeOf(c.iterRange, scope);
        const accumulator = typeOf(c.accuInit, scope);
        const element = elementOf(range) ?? mapParts(range)?.[0] ?? DYN;
        const inner = { ...scope, [c.iterVar]: element, [c.accuVar]: accumulator };
        if (c.iterVar2) inner[c.iterVar2] = mapParts(range)?.[1] ?? DYN;
        typeOf(c.loopCondition, inner);
        const step = typeOf(c.loopStep, inner);
        // map() and filter() build a list whose element type comes from the step.
        if (elementOf(accumulator) !== undefined && elementOf(step) !== undefined) inner[c.accuVar] = step;
        return typeOf(c.result, inner);
      }
      case "callExpr":
        return callType(expr, kind.value, scope);
      default:
        return DYN;
    }
  };

  const callType = (
    expr: Expr,
    call: { function: string; target?: Expr; args: Expr[] },
    scope: Record<string, CelTypeName>,
  ): CelTypeName => {
    const fn = call.function;
    const target = call.target ? typeOf(call.target, scope) : undefined;
    const args = call.args.map((a) => typeOf(a, scope));
    const anyDyn = args.some(isDyn) || (target !== undefined && isDyn(target));
    if (fn === "_&&_" || fn === "_||_") {
      // cel-go checks each operand of a logical operator on its own.
      call.args.forEach((arg, i) => {
        const t = args[i] ?? DYN;
        if (t !== "bool" && !isDyn(t))
          issues.push({ offset: at(arg), message: `expected type 'bool' but found '${t}'` });
      });
      return "bool";
    }
    if (fn === "!_") return args[0] === "bool" || isDyn(args[0] ?? DYN) ? "bool" : noOverload(expr, fn, args);
    if (fn === "-_") {
      const [a = DYN] = args;
      return a === "int" || a === "double" || isDyn(a) ? a : noOverload(expr, fn, args);
    }
    if (fn === "_==_" || fn === "_!=_") {
      const [a = DYN, b = DYN] = args;
      return assignable(a, b) ? "bool" : noOverload(expr, fn, args);
    }
    if (COMPARISONS.has(fn)) {
      const [a = DYN, b = DYN] = args;
      if (anyDyn) return "bool";
      return a === b && ORDERED.includes(a) ? "bool" : noOverload(expr, fn, args);
    }
    const arithmetic = ARITHMETIC[fn];
    if (arithmetic) {
      const [a = DYN, b = DYN] = args;
      const la = elementOf(a);
      const lb = elementOf(b);
      if (fn === "_+_" && la !== undefined && lb !== undefined)
        return assignable(la, lb) ? (isDyn(la) ? b : a) : noOverload(expr, fn, args);
      if (anyDyn) return DYN;
      const match = arithmetic.find(([x, y]) => x === a && y === b);
      return match ? match[2] : noOverload(expr, fn, args);
    }
    if (fn === "@in") {
      const [a = DYN, container = DYN] = args;
      if (isDyn(container)) return "bool";
      const element = elementOf(container) ?? mapParts(container)?.[0];
      if (element === undefined) return noOverload(expr, fn, args);
      return assignable(a, element) ? "bool" : noOverload(expr, fn, args);
    }
    if (fn === "_[_]") {
      const [container = DYN, index = DYN] = args;
      const element = elementOf(container);
      if (element !== undefined)
        return index === "int" || isDyn(index) ? element : noOverload(expr, fn, args);
      const parts = mapParts(container);
      if (parts) return assignable(index, parts[0]) ? parts[1] : noOverload(expr, fn, args);
      return isDyn(container) ? DYN : noOverload(expr, fn, args);
    }
    if (fn === "_?_:_") {
      const [condition = DYN, a = DYN, b = DYN] = args;
      if ((condition !== "bool" && !isDyn(condition)) || !assignable(a, b)) return noOverload(expr, fn, args);
      return isDyn(a) ? a : isDyn(b) ? b : a;
    }
    if (fn === "size") {
      const subject = target ?? args[0] ?? DYN;
      const sized =
        subject === "string" || subject === "bytes" || elementOf(subject) !== undefined || mapParts(subject);
      return sized || isDyn(subject) ? "int" : noOverload(expr, fn, target ? args : [subject], target);
    }
    if (target !== undefined && STRING_METHODS.has(fn)) {
      if (isDyn(target) || (target === "string" && args.every((a) => a === "string" || isDyn(a))))
        return "bool";
      return noOverload(expr, fn, args, target);
    }
    if (target !== undefined && TIME_METHODS.has(fn)) {
      return target === "timestamp" || target === "duration" || isDyn(target)
        ? "int"
        : noOverload(expr, fn, args, target);
    }
    if (fn === "in_cidr") return "bool";
    if (!target && CONVERSIONS[fn] !== undefined && args.length === 1) return CONVERSIONS[fn] as string;
    return UNKNOWN;
  };

  const output = typeOf(parsed.expr, variables);
  return { output: output === ERROR ? UNKNOWN : output, issues };
}
