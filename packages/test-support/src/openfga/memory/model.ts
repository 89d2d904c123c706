import { errors as transformerErrors, validator } from "@openfga/syntax-transformer";
import {
  type CompiledCondition,
  ConditionCompileError,
  type ConditionDefinition,
  compileCondition,
} from "./cel-conditions.js";
import { FgaServerError } from "./errors.js";
import { parseObject, parseUser, type TupleKey } from "./tuples.js";

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

  /** Why `tuple` is not valid under this model, or undefined when it is. Messages are the server's reasons. */
  tupleProblem(tuple: TupleKey): string | undefined {
    const object = parseObject(tuple.object);
    if (!object || object.id === "*") return "invalid 'object' field format";
    const user = parseUser(tuple.user);
    if (!user) return "the 'user' field is malformed";
    if (!this.hasType(object.type)) return `type '${object.type}' not found`;
    if (!this.rewrite(object.type, tuple.relation))
      return `relation '${object.type}#${tuple.relation}' not found`;
    if (!this.hasType(user.type)) return `type '${user.type}' not found`;
    // A userset holding itself is implied, and the server refuses to store it.
    if (
      user.kind === "userset" &&
      `${user.type}:${user.id}` === tuple.object &&
      user.relation === tuple.relation
    ) {
      return "cannot write a tuple that is implicit";
    }
    if (user.kind === "userset" && !this.rewrite(user.type, user.relation)) {
      return `relation '${user.type}#${user.relation}' not found`;
    }
    const conditionName = tuple.condition?.name ?? "";
    if (conditionName && !this.conditions.has(conditionName)) {
      return `undefined condition`;
    }
    const allowed = this.directTypes(object.type, tuple.relation).some(
      (ref) =>
        ref.type === user.type &&
        (user.kind === "wildcard"
          ? ref.wildcard !== undefined
          : user.kind === "userset"
            ? ref.relation === user.relation
            : ref.wildcard === undefined && !ref.relation) &&
        (ref.condition ?? "") === conditionName,
    );
    if (!allowed) {
      const shown =
        user.kind === "userset"
          ? `${user.type}#${user.relation}`
          : user.kind === "wildcard"
            ? `${user.type}:*`
            : user.type;
      return conditionName
        ? `invalid condition for type restriction`
        : `type '${shown}' is not an allowed type restriction for '${object.type}#${tuple.relation}'`;
    }
    return undefined;
  }
}

/** Validator rules the real server does not enforce on write (checked against v1.18.1): it accepts both. */
const LINT_ONLY = new Set(["duplicated-error", "condition-not-used"]);

/** Checks a model sent to the write endpoint as the server does; throws the server's error. */
export function validateModel(json: AuthorizationModel): void {
  if (json.schema_version !== "1.1") {
    throw new FgaServerError(
      400,
      "invalid_authorization_model",
      `invalid schema version: ${json.schema_version || "(empty)"}; only 1.1 is supported`,
    );
  }
  const seen = new Set<string>();
  for (const definition of json.type_definitions ?? []) {
    if (seen.has(definition.type)) {
      throw new FgaServerError(
        400,
        "invalid_authorization_model",
        `the type '${definition.type}' is defined more than once`,
      );
    }
    seen.add(definition.type);
  }
  try {
    // The transformer's validator checks what the server checks on write (undefined types and relations, cycles, entry points).
    validator.validateJSON(json as never);
  } catch (error) {
    // Only its validation errors reject a model: it also crashes (a TypeError) on valid models, e.g. a
    // tuple-to-userset whose tupleset type carries a condition, and those the server accepts.
    if (error instanceof transformerErrors.ModelValidationError) {
      const enforced = error.errors.filter((e) => !LINT_ONLY.has(e.metadata?.errorType as string));
      const first = enforced[0]?.message;
      if (first) throw new FgaServerError(400, "invalid_authorization_model", first.split("\n")[0] ?? first);
    }
  }
  for (const [name, definition] of Object.entries(json.conditions ?? {})) {
    try {
      compileCondition({ ...definition, name });
    } catch (error) {
      if (error instanceof ConditionCompileError) {
        throw new FgaServerError(400, "invalid_authorization_model", error.message);
      }
      throw error;
    }
  }
}
