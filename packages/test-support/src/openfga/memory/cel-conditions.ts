import { BlockList, isIP } from "node:net";
import {
  type CelInput,
  CelScalar,
  celEnv,
  celMethod,
  celUint,
  isCelError,
  isCelMap,
  parse,
  plan,
} from "@bufbuild/cel";
import { create } from "@bufbuild/protobuf";
import { DurationSchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ANY, checkTypes, UNKNOWN } from "./cel-types.js";

/** A condition parameter's type, as the API carries it (`TYPE_NAME_INT`, `TYPE_NAME_MAP` of `TYPE_NAME_STRING`...). */
export interface ConditionParameterType {
  type_name: string;
  generic_types?: ConditionParameterType[];
}

/** A condition of a model, as the API carries it. */
export interface ConditionDefinition {
  name: string;
  expression: string;
  parameters?: Record<string, ConditionParameterType>;
}

/** A condition that cannot be compiled; the message is what the server says when such a model is written. */
export class ConditionCompileError extends Error {}

/** A condition that cannot be evaluated with the given context; the message is the server's. */
export class ConditionEvaluationError extends Error {}

/** Whether the condition holds, and which parameters it needed but did not get. */
export interface ConditionOutcome {
  met: boolean;
  missingParameters: string[];
}

/** A condition compiled once per model, evaluated inside every check. */
export interface CompiledCondition {
  readonly name: string;
  evaluate(
    tupleContext: Record<string, unknown> | undefined,
    requestContext: Record<string, unknown> | undefined,
  ): ConditionOutcome;
}

// OpenFGA's `ipaddress` values travel as their canonical text; `in_cidr` checks membership.
const inCidr = celMethod("in_cidr", CelScalar.STRING, [CelScalar.STRING], CelScalar.BOOL, function (cidr) {
  const [network, bits] = String(cidr).split("/");
  const family = isIP(network ?? "");
  const prefix = Number(bits);
  const max = family === 6 ? 128 : 32;
  if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new Error(`network address parse error: netip.ParsePrefix(${JSON.stringify(cidr)}): bad prefix`);
  }
  const block = new BlockList();
  block.addSubnet(network as string, prefix, family === 6 ? "ipv6" : "ipv4");
  const address = String(this);
  return isIP(address) === family && block.check(address, family === 6 ? "ipv6" : "ipv4");
});
const ENV = celEnv({ funcs: [inCidr] });

const GO_DURATION = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parses a Go duration string ("1h30m", "-1.5s") into nanoseconds. */
function parseGoDuration(text: string): bigint | undefined {
  if (text === "0") return 0n;
  if (!GO_DURATION.test(text)) return undefined;
  const sign = text.startsWith("-") ? -1n : 1n;
  let total = 0;
  for (const [, amount, unit] of text
    .replace(/^[-+]/, "")
    .matchAll(/((?:\d+(?:\.\d*)?|\.\d+))(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_NS[unit as string] ?? 0);
  }
  return sign * BigInt(Math.round(total));
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The Go type name encoding/json gives a JSON value, as the server's messages name it. */
function goTypeOf(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (Array.isArray(value)) return "[]interface {}";
  if (typeof value === "object") return "map[string]interface {}";
  return { number: "float64", string: "string", boolean: "bool" }[typeof value as string] ?? typeof value;
}

const unsignedName = (type: ConditionParameterType) =>
  type.type_name === "TYPE_NAME_UINT" ? "uint64" : "int64";

/** Converts one JSON context value to the CEL value its declared type calls for; throws with the reason. */
function convert(value: unknown, type: ConditionParameterType): CelInput {
  const fail = (what: string): never => {
    throw new Error(what);
  };
  switch (type.type_name) {
    case "TYPE_NAME_ANY":
      return value as CelInput;
    case "TYPE_NAME_BOOL":
      return typeof value === "boolean"
        ? value
        : fail(`expected type value 'bool', but found '${goTypeOf(value)}'`);
    case "TYPE_NAME_STRING":
      return typeof value === "string"
        ? value
        : fail(`expected type value 'string', but found '${goTypeOf(value)}'`);
    case "TYPE_NAME_INT":
    case "TYPE_NAME_UINT": {
      const n =
        typeof value === "number" && Number.isInteger(value)
          ? BigInt(value)
          : typeof value === "string" && /^-?\d+$/.test(value)
            ? BigInt(value)
            : typeof value === "number"
              ? fail(
                  `expected an ${type.type_name === "TYPE_NAME_UINT" ? "uint" : "int"} value, but found numeric value '${value}'`,
                )
              : typeof value === "string"
                ? fail(`expected a ${unsignedName(type)} value, but found invalid string value '${value}'`)
                : fail(`expected type value '${unsignedName(type)}', but found '${goTypeOf(value)}'`);
      const unsigned = type.type_name === "TYPE_NAME_UINT";
      if (unsigned ? n < 0n || n > 2n ** 64n - 1n : n < -(2n ** 63n) || n > 2n ** 63n - 1n) {
        fail(`expected ${unsigned ? "a uint" : "an int"} value, but found numeric value '${n}'`);
      }
      return unsigned ? celUint(n) : n;
    }
    case "TYPE_NAME_DOUBLE": {
      const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
      if (!Number.isFinite(n)) {
        fail(
          typeof value === "number" || typeof value === "string"
            ? `number cannot be represented as a float64: ${value}`
            : `expected type value 'float64', but found '${goTypeOf(value)}'`,
        );
      }
      return n;
    }
    case "TYPE_NAME_DURATION": {
      const ns = typeof value === "string" ? parseGoDuration(value) : undefined;
      if (ns === undefined) return fail(`expected a valid duration string, but found: '${String(value)}'`);
      return create(DurationSchema, { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) });
    }
    case "TYPE_NAME_TIMESTAMP": {
      const ms = typeof value === "string" && RFC3339.test(value) ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(ms))
        return fail(`expected RFC 3339 formatted timestamp string, but found '${String(value)}'`);
      return timestampFromMs(ms);
    }
    case "TYPE_NAME_IPADDRESS":
      return typeof value === "string" && isIP(value)
        ? value
        : fail(`expected a well-formed IP address, but found: '${String(value)}'`);
    case "TYPE_NAME_LIST": {
      if (!Array.isArray(value)) return fail(`list requires a list, found: ${goTypeOf(value)}`);
      const element = type.generic_types?.[0] ?? { type_name: "TYPE_NAME_ANY" };
      return value.map((item) => convert(item, element)) as CelInput;
    }
    case "TYPE_NAME_MAP": {
      if (!value || typeof value !== "object" || Array.isArray(value))
        return fail(`map requires a map, found: ${goTypeOf(value)}`);
      const element = type.generic_types?.[0] ?? { type_name: "TYPE_NAME_ANY" };
      return new Map(Object.entries(value).map(([k, v]) => [k, convert(v, element)])) as CelInput;
    }
    default:
      return fail(`unknown parameter type ${type.type_name}`);
  }
}

const GENERIC_COUNTS: Record<string, number> = {
  TYPE_NAME_ANY: 0,
  TYPE_NAME_BOOL: 0,
  TYPE_NAME_STRING: 0,
  TYPE_NAME_INT: 0,
  TYPE_NAME_UINT: 0,
  TYPE_NAME_DOUBLE: 0,
  TYPE_NAME_DURATION: 0,
  TYPE_NAME_TIMESTAMP: 0,
  TYPE_NAME_IPADDRESS: 0,
  TYPE_NAME_LIST: 1,
  TYPE_NAME_MAP: 1,
};

/** Why the server cannot decode a parameter type (an unknown name reads as TYPE_NAME_UNSPECIFIED there). */
function parameterTypeProblem(type: ConditionParameterType): string | undefined {
  const count = GENERIC_COUNTS[type.type_name];
  if (count === undefined) return "unknown condition parameter type `TYPE_NAME_UNSPECIFIED`";
  const generics = type.generic_types ?? [];
  if (generics.length !== count) {
    return `condition parameter type \`${type.type_name}\` requires ${count} generic types; found ${generics.length}`;
  }
  for (const generic of generics) {
    const problem = parameterTypeProblem(generic);
    if (problem) return problem;
  }
  return undefined;
}

/** A zero value per type, used to try an expression once when its model is written. */
function zeroOf(type: ConditionParameterType): CelInput {
  const zeros: Record<string, unknown> = {
    TYPE_NAME_BOOL: false,
    TYPE_NAME_STRING: "",
    TYPE_NAME_INT: 0,
    TYPE_NAME_UINT: 0,
    TYPE_NAME_DOUBLE: 0,
    TYPE_NAME_DURATION: "0",
    TYPE_NAME_TIMESTAMP: "1970-01-01T00:00:00Z",
    TYPE_NAME_IPADDRESS: "127.0.0.1",
    TYPE_NAME_LIST: [],
    TYPE_NAME_MAP: {},
  };
  return type.type_name === "TYPE_NAME_ANY" ? null : convert(zeros[type.type_name], type);
}

function convertAll(
  definition: ConditionDefinition,
  context: Record<string, unknown>,
): Record<string, CelInput> {
  const out: Record<string, CelInput> = {};
  for (const [name, type] of Object.entries(definition.parameters ?? {})) {
    if (!(name in context)) continue;
    try {
      out[name] = convert(context[name], type);
    } catch (error) {
      throw new ConditionEvaluationError(
        `failed to convert context parameter '${name}': ${(error as Error).message}`,
      );
    }
  }
  return out;
}

type ParsedExpression = ReturnType<typeof parse>;
type Expression = NonNullable<ParsedExpression["expr"]>;

/**
 * The identifiers an expression uses that are neither parameters nor bound by a macro (`exists`, `all`,
 * `map`...), with their offsets: cel-go's checker refuses them ("undeclared reference"), and so does the
 * server when the model is written. A walk over @bufbuild/cel's parse tree; nothing is evaluated here.
 */
function undeclaredReferences(
  parsed: ParsedExpression,
  declared: Set<string>,
): { name: string; offset: number }[] {
  const found: { name: string; offset: number }[] = [];
  const positions = parsed.sourceInfo?.positions ?? {};
  const walk = (expr: Expression | undefined, bound: Set<string>): void => {
    if (!expr) return;
    const kind = expr.exprKind;
    switch (kind.case) {
      case "identExpr":
        if (!declared.has(kind.value.name) && !bound.has(kind.value.name)) {
          found.push({ name: kind.value.name, offset: positions[String(expr.id)] ?? 0 });
        }
        return;
      case "selectExpr":
        walk(kind.value.operand, bound);
        return;
      case "callExpr":
        walk(kind.value.target, bound);
        for (const arg of kind.value.args) walk(arg, bound);
        return;
      case "listExpr":
        for (const element of kind.value.elements) walk(element, bound);
        return;
      case "structExpr":
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === "mapKey") walk(entry.keyKind.value, bound);
          walk(entry.value, bound);
        }
        return;
      case "comprehensionExpr": {
        const c = kind.value;
        walk(c.iterRange, bound);
        walk(c.accuInit, bound);
        const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter(Boolean));
        walk(c.loopCondition, inner);
        walk(c.loopStep, inner);
        walk(c.result, inner);
        return;
      }
      default:
        return;
    }
  };
  walk(parsed.expr, new Set());
  return found.sort((a, b) => a.offset - b.offset);
}

/** cel-go's wording for an issue at `offset` of `source`: location, message, the line and a caret. */
function celIssue(name: string, source: string, offset: number, message: string): string {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1);
  const text = source.split("\n")[line - 1] ?? "";
  return `ERROR: ${name}:${line}:${column + 1}: ${message}\n | ${text}\n | ${".".repeat(column)}^`;
}

/** A parameter type as cel-go's checker names it. */
function celTypeName(type: ConditionParameterType): string {
  const generic = type.generic_types?.[0];
  switch (type.type_name) {
    case "TYPE_NAME_LIST":
      return `list(${generic ? celTypeName(generic) : "dyn"})`;
    case "TYPE_NAME_MAP":
      return `map(string, ${generic ? celTypeName(generic) : "dyn"})`;
    case "TYPE_NAME_ANY":
      return ANY;
    case "TYPE_NAME_IPADDRESS":
      return "IPAddress";
    default:
      return type.type_name.replace(/^TYPE_NAME_/, "").toLowerCase();
  }
}

/** The CEL type name of a value, as cel-go names the output type of an expression. */
function valueTypeName(value: unknown): string {
  if (typeof value === "bigint") return "int";
  if (typeof value === "number") return "double";
  if (typeof value === "string") return "string";
  if (value instanceof Uint8Array) return "bytes";
  if (Array.isArray(value)) return "list(dyn)";
  if (isCelMap(value)) return "map(dyn, dyn)";
  if (value && typeof value === "object" && "value" in value && typeof value.value === "bigint")
    return "uint";
  return typeof value;
}

/** Compiles a condition: parses it, and tries it once with zero values so type errors surface at write. */
export function compileCondition(definition: ConditionDefinition): CompiledCondition {
  const parameters = definition.parameters ?? {};
  for (const [name, type] of Object.entries(parameters)) {
    const problem = parameterTypeProblem(type);
    if (problem) {
      throw new ConditionCompileError(
        `failed to compile expression on condition '${definition.name}' - failed to decode parameter type for parameter '${name}': ${problem}`,
      );
    }
  }
  let evaluate: ReturnType<typeof plan>;
  let outputKnown = false;
  const failed = (reason: string) =>
    new ConditionCompileError(`failed to compile expression on condition '${definition.name}' - ${reason}`);
  try {
    const parsed = parse(definition.expression);
    const declared = Object.fromEntries(
      Object.entries(parameters).map(([name, type]) => [name, celTypeName(type)]),
    );
    const undeclared = undeclaredReferences(parsed, new Set(Object.keys(parameters))).map(
      ({ name, offset }) => ({
        offset,
        message: `undeclared reference to '${name}' (in container '')`,
      }),
    );
    const typed = checkTypes(parsed, declared, definition.expression);
    const issues = [...undeclared, ...typed.issues].sort((a, b) => a.offset - b.offset);
    if (issues.length > 0) {
      throw failed(
        issues.map((i) => celIssue(definition.name, definition.expression, i.offset, i.message)).join("\n"),
      );
    }
    if (typed.output !== "bool" && typed.output !== UNKNOWN) {
      throw failed(`expected a bool condition expression output, but got '${typed.output}'`);
    }
    outputKnown = typed.output !== UNKNOWN;
    evaluate = plan(ENV, parsed);
  } catch (error) {
    if (error instanceof ConditionCompileError) throw error;
    throw failed((error as Error).message.split("\n")[0] ?? "");
  }
  // Where the static types could not tell the result type, one evaluation with zero values can.
  if (!outputKnown) {
    const trial = evaluate(
      Object.fromEntries(Object.entries(parameters).map(([name, type]) => [name, zeroOf(type)])),
    );
    if (!isCelError(trial) && typeof trial !== "boolean") {
      throw failed(`expected a bool condition expression output, but got '${valueTypeName(trial)}'`);
    }
  }

  return {
    name: definition.name,
    evaluate(tupleContext, requestContext) {
      // The tuple's own context wins over the request's for the same parameter.
      const merged = { ...(requestContext ?? {}), ...(tupleContext ?? {}) };
      let bindings: Record<string, CelInput>;
      try {
        bindings = convertAll(definition, merged);
      } catch (error) {
        throw new ConditionEvaluationError(
          `failed to evaluate relationship condition: parameter type error on condition '${definition.name}' - ${(error as Error).message}`,
        );
      }
      // The server does not evaluate partially: any declared parameter without a value is an error,
      // even where the expression could be decided without it (x < 100 || y < 50 with only x).
      const missing = Object.keys(parameters).filter((name) => !(name in bindings));
      if (missing.length > 0) return { met: false, missingParameters: missing.sort() };
      const result = evaluate(bindings);
      if (isCelError(result)) {
        throw new ConditionEvaluationError(
          `failed to evaluate relationship condition: '${definition.name}' - failed to evaluate condition expression: ${result.message}`,
        );
      }
      if (typeof result !== "boolean") {
        throw new ConditionEvaluationError(
          `failed to evaluate relationship condition: '${definition.name}' - expected a bool, got ${isCelMap(result) ? "map" : typeof result}`,
        );
      }
      return { met: result, missingParameters: [] };
    },
  };
}

/** Checks a tuple's stored context against the condition's parameter types, as the server does on write. */
export function validateConditionContext(
  definition: ConditionDefinition,
  context: Record<string, unknown> | undefined,
): void {
  try {
    convertAll(definition, context ?? {});
  } catch (error) {
    throw new ConditionEvaluationError(
      `parameter type error on condition '${definition.name}' - ${(error as Error).message}`,
    );
  }
  for (const key of Object.keys(context ?? {})) {
    if (!(key in (definition.parameters ?? {}))) {
      throw new ConditionEvaluationError(`found invalid context parameter: ${key}`);
    }
  }
}
