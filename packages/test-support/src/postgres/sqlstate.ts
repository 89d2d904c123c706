import type pg from "pg";

// pg-mem leaves `code` unset for most errors; PostgreSQL's SQLSTATE for the same failure (see its
// "Errors and Messages" appendix) keyed by the message pg-mem writes.
const SQLSTATE_BY_MESSAGE: ReadonlyArray<readonly [RegExp, string]> = [
  [/violates not-null constraint/, "23502"],
  [/violates foreign key constraint/, "23503"],
  [/duplicate key value violates unique constraint/, "23505"],
  [/check constraint .* is violated/, "23514"],
  [/^relation ".*" does not exist/, "42P01"],
  [/^column ".*" does not exist/, "42703"],
  [/^function .* does not exist/, "42883"],
  [/has more expressions than target columns|has more target columns than expressions/, "42601"],
  [/^Syntax error|Unexpected .*token/i, "42601"],
  [/invalid input syntax/, "22P02"],
  [/division by zero/, "22012"],
];

/** Sets the SQLSTATE PostgreSQL would report on an error raised by pg-mem, when it has none. */
export function withSqlState(error: unknown): unknown {
  if (error instanceof Error && !(error as { code?: string }).code) {
    const match = SQLSTATE_BY_MESSAGE.find(([pattern]) => pattern.test(error.message));
    if (match) (error as { code?: string }).code = match[1];
  }
  return error;
}

const PATCHED = Symbol("sqlstate");
type Queryable = { query: (...args: unknown[]) => unknown; [PATCHED]?: true };

function patchQuery(target: Queryable): void {
  if (target[PATCHED]) return;
  const original = target.query.bind(target);
  target.query = (...args: unknown[]) => {
    const last = args.at(-1);
    if (typeof last === "function") {
      args[args.length - 1] = (error: unknown, ...rest: unknown[]) =>
        last(error && withSqlState(error), ...rest);
      return original(...args);
    }
    const result = original(...args) as Promise<unknown> | undefined;
    return result && typeof result.then === "function"
      ? result.catch((error: unknown) => Promise.reject(withSqlState(error)))
      : result;
  };
  target[PATCHED] = true;
}

/** Makes a pg-mem Pool, and every client it hands out, report SQLSTATE codes like PostgreSQL. */
export function reportSqlState(pool: pg.Pool): pg.Pool {
  patchQuery(pool as unknown as Queryable);
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => Promise<pg.PoolClient>;
  (pool as unknown as { connect: unknown }).connect = (...args: unknown[]) => {
    const last = args.at(-1);
    if (typeof last === "function") {
      return connect((error: unknown, client: pg.PoolClient | undefined, done: unknown) => {
        if (client) patchQuery(client as unknown as Queryable);
        last(error, client, done);
      });
    }
    return connect().then((client) => {
      patchQuery(client as unknown as Queryable);
      return client;
    });
  };
  return pool;
}
