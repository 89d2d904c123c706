// The Postgres fidelity corpus: SQL of the kinds services run, as data. Each case starts from the state
// the migrations in ./migrations leave (the runner resets between cases) and runs its steps in order;
// the normalized outcome of every step is compared with what a real PostgreSQL server answered
// (recording.json, re-derived in the cluster lane).

/** One statement: through the pool, or through a named checked-out client. */
export interface Step {
  readonly sql: string;
  readonly params?: readonly unknown[];
  /** A client checked out for this case ("a", "b"); it stays checked out until the case ends. */
  readonly client?: string;
  readonly rowMode?: "array";
  /** Release this step's client after it (so another can take the session). */
  readonly release?: boolean;
}

/** A case: an id, its group, and its steps. */
export interface Case {
  readonly id: string;
  readonly group: string;
  readonly steps: readonly Step[];
  /** Needs two sessions at once: an engine with one session may refuse it, loudly. */
  readonly sessions?: 2;
}

const cases: Case[] = [];
const add = (group: string, id: string, steps: Array<Step | string>, extra: Partial<Case> = {}) => {
  cases.push({
    id: `${group}/${id}`,
    group,
    steps: steps.map((s) => (typeof s === "string" ? { sql: s } : s)),
    ...extra,
  });
};
/** A case of one statement. */
const one = (group: string, id: string, sql: string, params?: unknown[]) => add(group, id, [{ sql, params }]);
/** DDL inside a transaction that is rolled back, so the catalog is as the migrations left it afterwards. */
const ddl = (id: string, statements: string[]) =>
  add("ddl", id, [
    { sql: "begin", client: "a" },
    ...statements.map((sql) => ({ sql, client: "a" })),
    { sql: "rollback", client: "a" },
  ]);

// --- DDL of the kind migrations run ---------------------------------------------------------------
ddl("create-table-and-insert", [
  "create table t (id serial primary key, name text not null default 'x', n int check (n > 0))",
  "insert into t (n) values (1), (2) returning id, name, n",
  "select count(*) from t",
]);
ddl("check-constraint-violation", ["create table t (n int check (n > 0))", "insert into t values (0)"]);
ddl("named-check-constraint", [
  "create table t (n int constraint positive check (n > 0))",
  "insert into t values (-1)",
]);
ddl("unique-index", [
  "create table t (a text)",
  "create unique index t_a on t (lower(a))",
  "insert into t values ('X')",
  "insert into t values ('x')",
]);
ddl("partial-unique-index", [
  "create table t (a text, active boolean)",
  "create unique index t_active on t (a) where active",
  "insert into t values ('x', false), ('x', false), ('x', true)",
  "insert into t values ('x', true)",
]);
ddl("add-column-default", [
  "alter table counters add column updated boolean not null default false",
  "select name, value, updated from counters",
]);
ddl("add-not-null-column-without-default-on-rows", ["alter table counters add column label text not null"]);
ddl("drop-column", ["alter table customers drop column tags", "select * from customers where id = 1"]);
ddl("rename-column", ["alter table counters rename column value to amount", "select amount from counters"]);
ddl("alter-column-type", [
  "alter table counters alter column value type numeric",
  "select value from counters",
]);
ddl("alter-column-type-invalid", ["alter table customers alter column email type int using email::int"]);
ddl("create-enum-and-use", [
  "create type colour as enum ('red', 'green')",
  "create table t (c colour)",
  "insert into t values ('green'), ('red')",
  "select c from t order by c",
]);
ddl("enum-invalid-value", ["insert into customers (email, status) values ('e@x.test', 'gone')"]);
ddl("alter-enum-add-value", [
  "alter type status add value 'archived'",
  "select unnest(enum_range(null::status))::text as s",
]);
ddl("create-view", [
  "create view active_customers as select id, email from customers where status = 'active'",
  "select * from active_customers",
]);
ddl("create-function-sql", [
  "create function twice(n int) returns int language sql immutable as $$ select n * 2 $$",
  "select twice(21) as v",
]);
ddl("create-function-plpgsql-raise", [
  "create function boom() returns int language plpgsql as $$ begin raise exception 'custom failure %', 42 using errcode = 'P0001'; end $$",
  "select boom()",
]);
ddl("trigger-sets-column", [
  "create function stamp() returns trigger language plpgsql as $$ begin new.note := 'stamped'; return new; end $$",
  "create trigger orders_stamp before insert on orders for each row execute function stamp()",
  "insert into orders (customer_id, total, placed_at) values (3, 1, '2024-02-01T00:00:00Z') returning note",
]);
ddl("foreign-key-on-delete-set-null", [
  "create table parent (id int primary key)",
  "create table child (id int, parent_id int references parent (id) on delete set null)",
  "insert into parent values (1)",
  "insert into child values (1, 1)",
  "delete from parent",
  "select parent_id from child",
]);
ddl("foreign-key-restrict", [
  "create table parent (id int primary key)",
  "create table child (parent_id int references parent (id) on delete restrict)",
  "insert into parent values (1)",
  "insert into child values (1)",
  "delete from parent",
]);
ddl("deferrable-foreign-key", [
  "create table parent (id int primary key)",
  "create table child (parent_id int references parent (id) deferrable initially deferred)",
  "insert into child values (7)",
  "insert into parent values (7)",
  "select count(*) from child",
]);
ddl("generated-column", [
  "create table t (a int, b int generated always as (a * 10) stored)",
  "insert into t (a) values (4) returning b",
  "insert into t (a, b) values (1, 2)",
]);
ddl("identity-always-override", ["insert into events (id, kind, at) values (5, 'x', '2024-01-01')"]);
ddl("identity-overriding-system-value", [
  "insert into events (id, kind, at) overriding system value values (5, 'x', '2024-01-01') returning id",
]);
ddl("create-table-duplicate", ["create table customers (id int)"]);
ddl("drop-missing-table", ["drop table no_such_table"]);
ddl("drop-if-exists", ["drop table if exists no_such_table"]);
ddl("create-index-if-not-exists", [
  "create index if not exists orders_placed on orders (placed_at)",
  "create index if not exists orders_placed on orders (placed_at)",
]);
ddl("comment-on-table", [
  "comment on table customers is 'people'",
  "select obj_description('customers'::regclass, 'pg_class') as d",
]);
ddl("truncate-cascade", ["truncate customers cascade", "select count(*) from orders"]);
ddl("truncate-restrict", ["truncate customers"]);
ddl("sequence-owned-by", ["create sequence s owned by counters.value", "select nextval('s'), nextval('s')"]);
ddl("check-constraint-on-existing-rows", [
  "alter table customers add constraint positive check (balance > 0)",
]);
ddl("not-valid-constraint", [
  "alter table customers add constraint positive check (balance > 0) not valid",
  "insert into customers (email, balance) values ('n@x.test', -1)",
]);
ddl("unique-constraint-on-duplicates", [
  "alter table orders add constraint one_per_customer unique (customer_id)",
]);
ddl("create-schema-qualified-table", ["create table pg_catalog.nope (id int)"]);

// --- DML -------------------------------------------------------------------------------------------
one("dml", "insert-returning", "insert into counters (name, value) values ('a', 1), ('b', 2) returning *");
one(
  "dml",
  "insert-default-values",
  "insert into jobs (queue, run_at) values ('q', '2024-01-01') returning id, payload, locked_by",
);
one(
  "dml",
  "insert-select",
  "insert into counters (name) select email from customers where id < 3 returning name, value",
);
one(
  "dml",
  "update-returning",
  "update customers set balance = balance + 1 where status <> 'closed' returning id, balance",
);
one("dml", "update-no-rows", "update customers set name = 'x' where id = 999");
one("dml", "delete-returning", "delete from orders where total > 20 returning id, total");
one(
  "dml",
  "delete-using",
  "delete from orders o using customers c where c.id = o.customer_id and c.email = 'bob@x.test' returning o.id",
);
one(
  "dml",
  "update-from",
  "update orders o set note = c.email from customers c where c.id = o.customer_id and o.id = 2 returning o.note",
);
one(
  "dml",
  "upsert-do-update",
  "insert into counters (name, value) values ('hits', 1) on conflict (name) do update set value = counters.value + excluded.value returning value",
);
one(
  "dml",
  "upsert-do-nothing-returning",
  "insert into counters (name, value) values ('hits', 1) on conflict do nothing returning *",
);
one(
  "dml",
  "upsert-do-nothing-new-row",
  "insert into counters (name, value) values ('new', 1) on conflict do nothing returning *",
);
one(
  "dml",
  "upsert-where",
  "insert into counters (name, value) values ('hits', 5) on conflict (name) do update set value = excluded.value where counters.value < 10 returning value",
);
one(
  "dml",
  "upsert-on-constraint",
  "insert into orders (customer_id, total, placed_at) values (1, 1, '2024-01-02T10:00:00Z') on conflict on constraint orders_customer_id_placed_at_key do update set total = 99 returning id, total",
);
one(
  "dml",
  "upsert-no-matching-constraint",
  "insert into counters (name, value) values ('hits', 1) on conflict (value) do nothing",
);
one(
  "dml",
  "cte-insert-count",
  "with moved as (delete from jobs where queue = 'mail' returning *) insert into jobs (queue, payload, run_at) select 'archive', payload, run_at from moved",
);
one(
  "dml",
  "cte-insert-returning",
  "with ins as (insert into counters (name, value) values ('c1', 1), ('c2', 2) returning value) select sum(value) as total from ins",
);
one(
  "dml",
  "cte-update-then-select",
  "with u as (update customers set name = 'Z' where id = 2 returning id) select (select count(*) from u) as updated, (select name from customers where id = 2) as seen",
);
one(
  "dml",
  "multi-row-values-types",
  "insert into events (kind, at, day, span, uid) values ('a', '2024-03-01 12:00', '2024-03-01', '1 day 2 hours', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') returning kind, at, day, span, uid",
);
one(
  "dml",
  "update-set-multiple",
  "update customers set (name, balance) = ('Q', 1) where id = 3 returning name, balance",
);
one("dml", "delete-all-count", "delete from jobs");
one("dml", "insert-wrong-column-count", "insert into counters (name) values ('a', 1)");
one("dml", "insert-unknown-column", "insert into counters (nope) values (1)");
one("dml", "select-order-limit-offset", "select email from customers order by email desc limit 2 offset 1");
one("dml", "select-order-by-ordinal-desc", "select id, email from customers order by 1 desc");
one("dml", "select-order-nulls", "select name from customers order by name nulls first");
one("dml", "select-order-nulls-default-desc", "select name from customers order by name desc");
one(
  "dml",
  "select-distinct-on",
  "select distinct on (customer_id) customer_id, total from orders order by customer_id, total desc",
);
one(
  "dml",
  "group-by-having",
  "select customer_id, count(*) as n, sum(total) as s from orders group by customer_id having count(*) > 1",
);
one("dml", "count-filter", "select count(*) filter (where total > 6) as big, count(*) as all_ from orders");
one(
  "dml",
  "not-in-with-null",
  "select count(*) from customers where id not in (select null::int union select 1)",
);
one("dml", "in-with-null", "select count(*) from customers where id in (1, null)");
one("dml", "is-distinct-from", "select count(*) from customers where name is distinct from 'Ada'");
one("dml", "like-escaped-percent", "select note from orders where note like 'x\\%y%'");
one("dml", "like-escaped-underscore", "select note from orders where note like '%\\_z'");
one("dml", "like-underscore-wildcard", "select email from customers where email like '_o_@%'");
one("dml", "ilike", "select email from customers where name ilike 'a%'");
one("dml", "similar-to", "select email from customers where email similar to '(ada|cy)@%'");
one("dml", "regex-match", "select email from customers where email ~ '^[ab]' order by 1");
one("dml", "greatest-least", "select greatest(1, null, 3) as g, least(2, null, 1) as l");
one(
  "dml",
  "coalesce-nullif",
  "select coalesce(name, 'anon') as n, nullif(balance, 0) as b from customers order by id",
);
one("dml", "concat-ws-null", "select concat_ws('-', 'a', null, 'b') as s, concat('a', null, 'b') as c");
one("dml", "string-concat-null", "select 'a' || null as s");
one(
  "dml",
  "string-functions",
  "select upper('aé'), lower('ÀB'), length('héllo'), substr('abcdef', 2, 3), position('c' in 'abc'), trim('  x '), lpad('7', 3, '0'), replace('aaa', 'a', 'b'), split_part('a,b,c', ',', 2), initcap('hello world')",
);
one(
  "dml",
  "case-when",
  "select id, case when balance > 0 then 'pos' when balance < 0 then 'neg' else 'zero' end as sign from customers order by id",
);
one(
  "dml",
  "exists-subquery",
  "select email from customers c where exists (select 1 from orders o where o.customer_id = c.id) order by email",
);
one("dml", "scalar-subquery-multiple-rows", "select (select id from customers) as id");
one(
  "dml",
  "left-join-nulls",
  "select c.email, o.total from customers c left join orders o on o.customer_id = c.id order by c.id, o.total",
);
one(
  "dml",
  "full-join",
  "select a.x, b.y from (values (1), (2)) a(x) full join (values (2), (3)) b(y) on a.x = b.y order by a.x nulls last, b.y",
);
one(
  "dml",
  "cross-join-lateral",
  "select c.id, o.total from customers c cross join lateral (select total from orders where customer_id = c.id order by total desc limit 1) o order by c.id",
);
one("dml", "union-all-order", "select 1 as x union all select 1 union select 2 order by x");
one(
  "dml",
  "intersect-except",
  "select x from (values (1), (2), (3)) v(x) intersect select x from (values (2), (3), (4)) w(x) except select 3 order by 1",
);
one(
  "dml",
  "window-row-number",
  "select id, total, row_number() over (partition by customer_id order by total desc) as rn from orders order by id",
);
one(
  "dml",
  "window-running-sum",
  "select id, sum(total) over (order by id) as running from orders order by id",
);
one(
  "dml",
  "window-lag-lead",
  "select id, lag(id) over (order by id) as prev, lead(id) over (order by id) as next from orders order by id",
);
one(
  "dml",
  "recursive-cte",
  "with recursive n(i) as (select 1 union all select i + 1 from n where i < 5) select sum(i) from n",
);
one("dml", "generate-series", "select generate_series(1, 3) as i");
one(
  "dml",
  "generate-series-dates",
  "select generate_series('2024-01-01'::timestamp, '2024-01-03'::timestamp, '1 day'::interval) as d",
);
one("dml", "values-list", "select * from (values (1, 'a'), (2, 'b')) as v(n, s) order by n desc");
one("dml", "enum-order-by", "select status from customers order by status desc");
one("dml", "enum-comparison", "select email from customers where status > 'new' order by email");
one(
  "dml",
  "bool-and-or",
  "select bool_and(balance > -10) as all_, bool_or(balance > 100) as any_ from customers",
);
one("dml", "string-agg-ordered", "select string_agg(email, ',' order by email desc) as s from customers");
one("dml", "array-agg-ordered", "select array_agg(id order by id desc) as ids from customers");
one("dml", "avg-numeric", "select avg(total) as a, min(total), max(total), sum(total) from orders");
one("dml", "count-distinct", "select count(distinct customer_id) from orders");
one("dml", "select-for-update", "select id from jobs where queue = 'mail' order by id for update");
one("dml", "limit-all", "select id from customers order by id limit all");
one("dml", "offset-beyond", "select id from customers order by id offset 10");
one("dml", "select-without-from", "select 1 + 1 as two, 'x' as s, null as n");
one("dml", "between-symmetric", "select count(*) from orders where total between symmetric 20 and 5");
one("dml", "any-array-param", "select email from customers where email = any($1::text[]) order by email", [
  ["ada@x.test", "cy@x.test"],
]);
one("dml", "all-array", "select count(*) from orders where total < all(array[30, 40])");
one("dml", "tuple-comparison", "select count(*) from orders where (customer_id, total) > (1, 10)");
one(
  "dml",
  "returning-expression",
  "insert into counters (name, value) values ('e', 2) returning value * 2 as doubled, upper(name) as n",
);
one("dml", "update-returning-old-new", "update counters set value = value + 1 returning value");
one(
  "dml",
  "delete-cascade-count",
  "with d as (delete from customers where id = 1 returning id) select (select count(*) from d) as deleted, (select count(*) from orders) as orders_left",
);
one(
  "dml",
  "insert-on-conflict-same-row-twice",
  "insert into counters (name, value) values ('dup', 1), ('dup', 2) on conflict (name) do update set value = excluded.value",
);
one("dml", "select-star-column-order", "select * from counters");
one("dml", "count-star-type", "select count(*) from customers");
one("dml", "exists-type", "select exists(select 1 from customers) as e");
one("dml", "order-by-expression-alias", "select total * 2 as t2 from orders order by t2 desc");
one("dml", "group-by-ordinal", "select customer_id, count(*) from orders group by 1 order by 1");
one("dml", "having-without-group", "select count(*) from orders having count(*) > 1");
one("dml", "nested-aggregate-error", "select sum(count(*)) from orders");
one("dml", "column-ambiguous", "select id from customers join orders on orders.customer_id = customers.id");
one("dml", "group-by-missing", "select customer_id, total from orders group by customer_id");

// --- Transactions through pooled clients --------------------------------------------------------
add("tx", "rollback-undoes-insert", [
  { sql: "begin", client: "a" },
  { sql: "insert into counters (name) values ('tx')", client: "a" },
  { sql: "rollback", client: "a", release: true },
  "select count(*) from counters where name = 'tx'",
]);
add("tx", "commit-keeps-insert", [
  { sql: "begin", client: "a" },
  { sql: "insert into counters (name) values ('tx')", client: "a" },
  { sql: "commit", client: "a", release: true },
  "select count(*) from counters where name = 'tx'",
]);
add("tx", "error-aborts-transaction", [
  { sql: "begin", client: "a" },
  { sql: "insert into counters (name) values ('tx')", client: "a" },
  { sql: "select 1 / 0", client: "a" },
  { sql: "insert into counters (name) values ('after')", client: "a" },
  { sql: "commit", client: "a", release: true },
  "select count(*) from counters where name in ('tx', 'after')",
]);
add("tx", "rollback-undoes-update-and-delete", [
  { sql: "begin", client: "a" },
  { sql: "update customers set balance = 0", client: "a" },
  { sql: "delete from orders", client: "a" },
  { sql: "rollback", client: "a", release: true },
  "select (select sum(balance) from customers) as b, (select count(*) from orders) as o",
]);
add("tx", "sequence-not-rolled-back", [
  { sql: "begin", client: "a" },
  { sql: "select nextval('ticket_numbers')", client: "a" },
  { sql: "rollback", client: "a", release: true },
  "select nextval('ticket_numbers')",
]);
add("tx", "serial-gap-after-rollback", [
  { sql: "begin", client: "a" },
  { sql: "insert into jobs (queue, run_at) values ('q', '2024-01-01') returning id", client: "a" },
  { sql: "rollback", client: "a", release: true },
  "insert into jobs (queue, run_at) values ('q', '2024-01-01') returning id",
]);
add("tx", "commit-after-error-is-rollback", [
  { sql: "begin", client: "a" },
  { sql: "insert into counters (name) values ('x')", client: "a" },
  { sql: "insert into counters (name) values ('x')", client: "a" },
  { sql: "commit", client: "a", release: true },
  "select count(*) from counters where name = 'x'",
]);
add("tx", "nested-begin-warning", [
  { sql: "begin", client: "a" },
  { sql: "begin", client: "a" },
  { sql: "commit", client: "a", release: true },
]);
add("tx", "rollback-without-transaction", ["rollback"]);
add("tx", "commit-without-transaction", ["commit"]);
add("tx", "read-only-transaction", [
  { sql: "begin read only", client: "a" },
  { sql: "insert into counters (name) values ('ro')", client: "a" },
  { sql: "rollback", client: "a", release: true },
]);
add("tx", "isolation-level", [
  { sql: "begin isolation level serializable", client: "a" },
  { sql: "show transaction_isolation", client: "a" },
  { sql: "commit", client: "a", release: true },
]);
add("tx", "set-local-scope", [
  { sql: "begin", client: "a" },
  { sql: "set local statement_timeout = '1234ms'", client: "a" },
  { sql: "show statement_timeout", client: "a" },
  { sql: "commit", client: "a" },
  { sql: "select current_setting('statement_timeout') = '1234ms' as still_set", client: "a", release: true },
]);
add(
  "tx",
  "uncommitted-invisible-to-other-client",
  [
    { sql: "begin", client: "a" },
    { sql: "insert into counters (name) values ('hidden')", client: "a" },
    { sql: "select count(*) from counters where name = 'hidden'", client: "b" },
    { sql: "rollback", client: "a" },
  ],
  { sessions: 2 },
);
add(
  "tx",
  "two-clients-distinct-sessions",
  [
    { sql: "select pg_backend_pid() is not null as a", client: "a" },
    { sql: "select pg_backend_pid() is not null as b", client: "b" },
  ],
  { sessions: 2 },
);
add("tx", "release-then-checkout-again", [
  { sql: "insert into counters (name) values ('r')", client: "a", release: true },
  { sql: "select count(*) from counters where name = 'r'", client: "b", release: true },
]);
add("tx", "pool-query-after-client-commit", [
  { sql: "begin", client: "a" },
  { sql: "update counters set value = 1", client: "a" },
  { sql: "commit", client: "a", release: true },
  "select value from counters",
]);
add("tx", "transaction-timestamp-stable", [
  { sql: "begin", client: "a" },
  { sql: "select now() = transaction_timestamp() as same", client: "a" },
  { sql: "commit", client: "a", release: true },
]);
add("tx", "deferred-constraint-check-at-commit", [
  { sql: "begin", client: "a" },
  { sql: "set constraints all deferred", client: "a" },
  { sql: "insert into orders (customer_id, total, placed_at) values (99, 1, '2024-01-01')", client: "a" },
  { sql: "commit", client: "a", release: true },
]);

// --- Savepoints ---------------------------------------------------------------------------------
add("savepoint", "rollback-to-savepoint", [
  { sql: "begin", client: "a" },
  { sql: "insert into counters (name) values ('kept')", client: "a" },
  { sql: "savepoint s1", client: "a" },
  { sql: "insert into counters (name) values ('undone')", client: "a" },
  { sql: "rollback to savepoint s1", client: "a" },
  { sql: "commit", client: "a", release: true },
  "select name from counters order by name",
]);
add("savepoint", "recover-from-error", [
  { sql: "begin", client: "a" },
  { sql: "savepoint s1", client: "a" },
  { sql: "insert into counters (name) values ('hits')", client: "a" },
  { sql: "rollback to savepoint s1", client: "a" },
  { sql: "insert into counters (name) values ('ok')", client: "a" },
  { sql: "commit", client: "a", release: true },
  "select name from counters order by name",
]);
add("savepoint", "release-savepoint", [
  { sql: "begin", client: "a" },
  { sql: "savepoint s1", client: "a" },
  { sql: "insert into counters (name) values ('r1')", client: "a" },
  { sql: "release savepoint s1", client: "a" },
  { sql: "rollback to savepoint s1", client: "a" },
  { sql: "rollback", client: "a", release: true },
]);
add("savepoint", "nested-savepoints", [
  { sql: "begin", client: "a" },
  { sql: "savepoint a", client: "a" },
  { sql: "insert into counters (name) values ('one')", client: "a" },
  { sql: "savepoint b", client: "a" },
  { sql: "insert into counters (name) values ('two')", client: "a" },
  { sql: "rollback to savepoint a", client: "a" },
  { sql: "commit", client: "a", release: true },
  "select count(*) from counters",
]);
add("savepoint", "outside-transaction", ["savepoint s1"]);
add("savepoint", "unknown-savepoint", [
  { sql: "begin", client: "a" },
  { sql: "rollback to savepoint nope", client: "a" },
  { sql: "rollback", client: "a", release: true },
]);
add("savepoint", "aborted-transaction-rejects-statements", [
  { sql: "begin", client: "a" },
  { sql: "select 1 / 0", client: "a" },
  { sql: "select 1", client: "a" },
  { sql: "rollback", client: "a", release: true },
]);
add("savepoint", "same-name-twice", [
  { sql: "begin", client: "a" },
  { sql: "savepoint s", client: "a" },
  { sql: "insert into counters (name) values ('one')", client: "a" },
  { sql: "savepoint s", client: "a" },
  { sql: "insert into counters (name) values ('two')", client: "a" },
  { sql: "rollback to savepoint s", client: "a" },
  { sql: "commit", client: "a", release: true },
  "select name from counters order by name",
]);

// --- Locking ------------------------------------------------------------------------------------
add("locking", "skip-locked-single-session", [
  { sql: "begin", client: "a" },
  { sql: "select id from jobs where queue = 'mail' order by id limit 1 for update skip locked", client: "a" },
  { sql: "update jobs set locked_by = 'w1' where id = 1 returning locked_by", client: "a" },
  { sql: "commit", client: "a", release: true },
]);
add(
  "locking",
  "skip-locked-other-session",
  [
    { sql: "begin", client: "a" },
    {
      sql: "select id from jobs where queue = 'mail' order by id limit 1 for update skip locked",
      client: "a",
    },
    {
      sql: "select id from jobs where queue = 'mail' order by id limit 1 for update skip locked",
      client: "b",
    },
    { sql: "rollback", client: "a" },
  ],
  { sessions: 2 },
);
add(
  "locking",
  "nowait-other-session",
  [
    { sql: "begin", client: "a" },
    { sql: "select id from jobs where id = 1 for update", client: "a" },
    { sql: "select id from jobs where id = 1 for update nowait", client: "b" },
    { sql: "rollback", client: "a" },
  ],
  { sessions: 2 },
);
add("locking", "for-share", [
  { sql: "begin", client: "a" },
  { sql: "select id from customers where id = 1 for share", client: "a" },
  { sql: "commit", client: "a", release: true },
]);
add("locking", "for-update-of-join", [
  { sql: "begin", client: "a" },
  {
    sql: "select o.id from orders o join customers c on c.id = o.customer_id where c.id = 1 order by o.id for update of o",
    client: "a",
  },
  { sql: "commit", client: "a", release: true },
]);
add("locking", "for-update-outside-transaction", ["select id from jobs order by id limit 1 for update"]);
add("locking", "advisory-lock-session", [
  "select pg_advisory_lock(42)",
  "select pg_advisory_unlock(42) as released",
  "select pg_advisory_unlock(42) as again",
]);
add("locking", "advisory-try-lock", [
  { sql: "select pg_try_advisory_lock(7) as got", client: "a" },
  { sql: "select pg_try_advisory_lock(7) as again", client: "a" },
  { sql: "select pg_advisory_unlock_all()", client: "a", release: true },
]);
add("locking", "advisory-xact-lock", [
  { sql: "begin", client: "a" },
  { sql: "select pg_advisory_xact_lock(9)", client: "a" },
  { sql: "select pg_try_advisory_xact_lock(9) as reentrant", client: "a" },
  { sql: "commit", client: "a", release: true },
]);
add(
  "locking",
  "advisory-lock-other-session",
  [
    { sql: "select pg_try_advisory_lock(11) as a", client: "a" },
    { sql: "select pg_try_advisory_lock(11) as b", client: "b" },
    { sql: "select pg_advisory_unlock_all()", client: "a" },
  ],
  { sessions: 2 },
);
add("locking", "lock-table", [
  { sql: "begin", client: "a" },
  { sql: "lock table counters in exclusive mode", client: "a" },
  { sql: "commit", client: "a", release: true },
]);
add("locking", "lock-table-outside-transaction", ["lock table counters"]);

// --- jsonb --------------------------------------------------------------------------------------
one(
  "jsonb",
  "arrow-operators",
  "select profile->'langs' as langs, profile->>'tier' as tier, profile#>'{langs,0}' as first, profile#>>'{langs,1}' as second from customers where id = 1",
);
one("jsonb", "containment", 'select email from customers where profile @> \'{"tier": "gold"}\'');
one("jsonb", "key-exists", "select email from customers where profile ? 'score' order by email");
one("jsonb", "any-key-exists", "select count(*) from customers where profile ?| array['tier', 'nope']");
one("jsonb", "set", "select jsonb_set(profile, '{tier}', '\"bronze\"') as p from customers where id = 3");
one("jsonb", "set-missing-path", "select jsonb_set('{\"a\": 1}', '{b,c}', '2') as p");
one(
  "jsonb",
  "concat-delete",
  "select '{\"a\": 1}'::jsonb || '{\"b\": 2}' as merged, '{\"a\": 1, \"b\": 2}'::jsonb - 'a' as removed",
);
one(
  "jsonb",
  "build-object",
  "select jsonb_build_object('id', id, 'email', email) as o from customers order by id limit 2",
);
one("jsonb", "agg", "select jsonb_agg(email order by email) as emails from customers");
one("jsonb", "object-agg", "select jsonb_object_agg(email, balance) as m from customers");
one("jsonb", "each", 'select key, value from jsonb_each(\'{"b": 2, "a": [1]}\') order by key');
one(
  "jsonb",
  "array-elements",
  "select jsonb_array_elements_text(profile->'langs') as lang from customers where id = 1",
);
one(
  "jsonb",
  "typeof",
  "select jsonb_typeof(profile->'score') as t, jsonb_typeof(profile->'langs') as l from customers where id = 1",
);
one("jsonb", "numeric-cast", "select (profile->>'score')::int + 1 as next from customers where id = 1");
one("jsonb", "param-object", "select $1::jsonb->'nested'->>'k' as v", [
  JSON.stringify({ nested: { k: "v" } }),
]);
one("jsonb", "param-roundtrip", "select $1::jsonb as j", [
  JSON.stringify({ a: [1, 2, { b: null }], c: "é" }),
]);
one(
  "jsonb",
  "json-vs-jsonb-output",
  'select \'{"b": 1, "a": 2, "a": 3}\'::json as js, \'{"b": 1, "a": 2, "a": 3}\'::jsonb as jb',
);
one("jsonb", "invalid-json", "select 'not json'::jsonb");
one(
  "jsonb",
  "update-with-jsonb-path",
  "update customers set profile = profile || '{\"score\": 9}' where id = 1 returning profile->'score' as s",
);
one(
  "jsonb",
  "jsonpath",
  "select jsonb_path_query_array(profile, '$.langs[*]') as langs from customers where id = 1",
);
one("jsonb", "strip-nulls", 'select jsonb_strip_nulls(\'{"a": null, "b": 1}\') as j');
one("jsonb", "pretty", "select jsonb_pretty('{\"a\": 1}') as p");
one("jsonb", "equality", 'select \'{"a": 1, "b": 2}\'::jsonb = \'{"b": 2, "a": 1}\'::jsonb as same');
one(
  "jsonb",
  "null-vs-json-null",
  "select 'null'::jsonb is null as sql_null, 'null'::jsonb as j, jsonb_typeof('null') as t",
);

// --- Arrays -------------------------------------------------------------------------------------
one("arrays", "contains", "select email from customers where tags @> array['eng'] order by email");
one("arrays", "overlap", "select count(*) from customers where tags && array['math', 'art']");
one("arrays", "any-element", "select email from customers where 'math' = any(tags)");
one(
  "arrays",
  "unnest-with-ordinality",
  "select tag, n from customers, unnest(tags) with ordinality as t(tag, n) where id = 1 order by n",
);
one(
  "arrays",
  "array-length-cardinality",
  "select array_length(tags, 1) as len, cardinality(tags) as card from customers order by id",
);
one(
  "arrays",
  "append-remove",
  "select array_append(tags, 'x') as a, array_remove(tags, 'eng') as r from customers where id = 1",
);
one("arrays", "text-array-param", "select $1::text[] as a", [["a", "b,c", 'd"e', null]]);
one("arrays", "int-array-param", "select $1::int[] as a, array_length($1::int[], 1) as n", [[3, 1, 2]]);
one("arrays", "empty-array-param", "select cardinality($1::text[]) as n", [[]]);
one(
  "arrays",
  "index-and-slice",
  "select (array[10, 20, 30])[2] as second, (array[10, 20, 30])[2:3] as tail, (array[1])[5] as missing",
);
one("arrays", "array-to-string", "select array_to_string(array['a', null, 'c'], ',', '*') as s");
one("arrays", "string-to-array", "select string_to_array('a,b,,c', ',') as a");
one("arrays", "multidimensional", "select array[[1, 2], [3, 4]] as m");
one("arrays", "enum-array", "select array_agg(status order by id) as s from customers");
one("arrays", "update-append", "update customers set tags = tags || 'new' where id = 2 returning tags");
one("arrays", "array-position", "select array_position(array['a', 'b'], 'b') as p");
one("arrays", "unnest-multiple", "select * from unnest(array[1, 2], array['a', 'b', 'c']) as t(n, s)");
one("arrays", "mixed-dimensions-error", "select array[[1, 2], [3]]");

// --- Time ---------------------------------------------------------------------------------------
one("time", "timestamptz-param", "select $1::timestamptz as t", ["2024-05-06T07:08:09.123Z"]);
one("time", "timestamptz-from-date-object", "select $1::timestamptz as t", [
  new Date("2024-05-06T07:08:09.123Z"),
]);
one("time", "timestamp-without-zone", "select '2024-05-06 07:08:09'::timestamp as t");
one("time", "date", "select '2024-02-29'::date as d, '2024-02-29'::date + 1 as next");
one("time", "invalid-date", "select '2023-02-29'::date");
one("time", "interval-output", "select interval '1 day 2 hours 3 minutes' as i, interval '90 minutes' as m");
one(
  "time",
  "interval-arithmetic",
  "select '2024-01-31'::date + interval '1 month' as d, timestamptz '2024-06-10 12:00+00' - interval '1 day' as t",
);
one(
  "time",
  "date-trunc",
  "select date_trunc('month', timestamptz '2024-05-06 07:08:09+00', 'UTC') as m, date_trunc('hour', timestamp '2024-05-06 07:08:09') as h",
);
one(
  "time",
  "extract",
  "select extract(year from timestamptz '2024-05-06 07:08:09+00') as y, extract(epoch from timestamptz '2024-01-01 00:00:00+00') as e, extract(dow from date '2024-05-06') as dow",
);
one(
  "time",
  "at-time-zone",
  "select timestamptz '2024-05-06 07:08:09+00' at time zone 'America/New_York' as ny",
);
one("time", "age", "select age(timestamp '2024-05-06', timestamp '2023-01-01') as a");
one(
  "time",
  "to-char",
  "select to_char(timestamptz '2024-05-06 07:08:09+00' at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as s",
);
one("time", "to-timestamp", "select to_timestamp(1700000000) as t");
one(
  "time",
  "compare-and-order",
  "select id from orders where placed_at >= '2024-01-03T00:00:00Z' order by placed_at desc",
);
one("time", "timestamptz-column", "select created_at from customers where id = 1");
one("time", "date-difference", "select date '2024-03-01' - date '2024-02-01' as days");
one(
  "time",
  "overlaps",
  "select (date '2024-01-01', date '2024-01-10') overlaps (date '2024-01-05', date '2024-01-20') as o",
);
one("time", "make-date", "select make_date(2024, 2, 29) as d, make_interval(days => 3) as i");
one("time", "infinity", "select 'infinity'::timestamptz as t, '-infinity'::date as d");
one("time", "time-of-day", "select time '13:45:00' + interval '30 minutes' as t");
one("time", "interval-param", "select $1::interval as i", ["2 hours"]);
one("time", "date-param-string", "select $1::date as d", ["2024-07-04"]);
one(
  "time",
  "events-insert-time-types",
  "insert into events (kind, at, day, span) values ('t', $1, $2, $3) returning at, day, span",
  ["2024-01-02 03:04:05", "2024-01-02", "1 hour"],
);

// --- Errors, with SQLSTATE and fields -----------------------------------------------------------
one("errors", "unique-violation", "insert into customers (email) values ('ada@x.test')");
one("errors", "not-null-violation", "insert into customers (email) values (null)");
one(
  "errors",
  "foreign-key-violation",
  "insert into orders (customer_id, total, placed_at) values (99, 1, '2024-01-01')",
);
one("errors", "foreign-key-update-parent", "update customers set id = 100 where id = 1");
one("errors", "check-violation", "update customers set balance = -2000 where id = 1");
one("errors", "undefined-table", "select * from no_such_table");
one("errors", "undefined-column", "select no_such_column from customers");
one("errors", "undefined-function", "select no_such_function(1)");
one("errors", "syntax-error", "selec 1");
one("errors", "division-by-zero-int", "select 1 / 0");
one("errors", "division-by-zero-numeric", "select 1.5 / 0");
one("errors", "division-by-zero-float", "select 1.5::float8 / 0");
one("errors", "integer-overflow", "select 2147483647::int + 1");
one("errors", "bigint-overflow", "select 9223372036854775807::bigint + 1");
one(
  "errors",
  "numeric-field-overflow",
  "insert into orders (customer_id, total, placed_at) values (1, 123456789.12, '2024-02-01')",
);
one("errors", "invalid-text-representation", "select 'abc'::int");
one("errors", "invalid-uuid", "select 'nope'::uuid");
one("errors", "string-too-long", "select 'abcd'::varchar(2)");
one(
  "errors",
  "value-too-long-insert",
  "insert into counters (name) values ('x'::varchar(200)::varchar(1) || 'yz') returning name",
);
one(
  "errors",
  "raise-exception",
  "do $$ begin raise exception 'custom: %', 'detail here' using detail = 'more', hint = 'try again', errcode = '22023'; end $$",
);
one("errors", "cardinality-violation", "select (select id from customers)");
one("errors", "wrong-param-count", "select $1::int + $2::int as s", [1]);
one("errors", "param-type-mismatch", "select $1::int as n", ["not a number"]);
one("errors", "ambiguous-column", "select id from customers, orders");
one("errors", "datatype-mismatch", "select 1 = 'a'::text");
one("errors", "operator-does-not-exist", "select 'a'::text + 1");
one("errors", "statement-timeout-setting", "set statement_timeout = 'nonsense'");
one("errors", "unknown-setting", "show no_such_setting");
one("errors", "empty-query", "");
one("errors", "multiple-statements-with-params", "select $1::int; select 2", [1]);
one(
  "errors",
  "insert-into-identity-always",
  "insert into events (id, kind, at) values (1, 'x', '2024-01-01')",
);
one("errors", "null-in-array-param-not-null", "insert into customers (email) select unnest($1::text[])", [
  ["z@x.test", null],
]);
one("errors", "enum-invalid", "select 'nope'::status");
one("errors", "negative-substring", "select substr('abc', 1, -1)");
one("errors", "log-of-zero", "select ln(0)");
one("errors", "sqrt-negative", "select sqrt(-1)");
one("errors", "cast-out-of-range-smallint", "select 40000::smallint");

// --- Parameter and result typing ----------------------------------------------------------------
one("typing", "int8-as-string", "select 9007199254740993::int8 as big, 1::int8 as small");
one(
  "typing",
  "numeric-as-string",
  "select 1.10::numeric as n, 123456789012345678901234567890.123::numeric as huge",
);
one(
  "typing",
  "float8-as-number",
  "select 0.1::float8 + 0.2::float8 as f, 'NaN'::float8 as nan, 'Infinity'::float8 as inf",
);
one("typing", "float4", "select 1.5::float4 as f");
one("typing", "int2-int4", "select 1::int2 as a, 2::int4 as b");
one("typing", "bool", "select true as t, false as f, null::bool as n");
one("typing", "text-varchar-char", "select 'a'::text as t, 'b'::varchar as v, 'c'::char(3) as c");
one("typing", "bytea-param", "select $1::bytea as b, length($1::bytea) as n", [
  Buffer.from([0, 1, 2, 253, 254, 255]),
]);
one("typing", "bytea-insert-roundtrip", "insert into blobs (id, data) values (1, $1) returning data", [
  Buffer.from("héllo\u0000world"),
]);
one("typing", "bytea-hex-literal", "select '\\xdeadbeef'::bytea as b");
one("typing", "uuid", "select 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid as u");
one("typing", "money-like-numeric-param", "select $1::numeric(10, 2) as n", ["12.345"]);
one("typing", "int-param-from-string", "select $1::int + 1 as n", ["41"]);
one("typing", "int-param-from-number", "select $1::int * 2 as n", [21]);
one("typing", "bigint-param-from-bigint", "select $1::bigint as n", ["9223372036854775807"]);
one("typing", "bool-param", "select $1::bool as b, not $2::bool as nb", [true, "false"]);
one("typing", "null-param", "select $1::text is null as isnull", [null]);
one("typing", "untyped-param-text", "select $1 as v", ["hello"]);
one("typing", "untyped-param-in-comparison", "select count(*) from customers where id = $1", [1]);
one("typing", "json-param-object", "select $1::json as j", [JSON.stringify({ a: 1 })]);
cases.push({
  id: "typing/row-mode-array-values",
  group: "typing",
  steps: [{ sql: "select id, email from customers order by id", rowMode: "array" }],
});
one("typing", "duplicate-column-names", "select 1 as x, 2 as x");
one("typing", "composite-row", "select row(1, 'a') as r");
one("typing", "record-from-subquery", "select c from (select id, email, name from customers) c where id = 2");
one("typing", "oid-and-regclass", "select 'customers'::regclass::text as r");
one("typing", "point", "select point(1, 2) as p");
one("typing", "inet-cidr", "select '192.168.0.1/24'::inet as i, '10.0.0.0/8'::cidr as c");
one("typing", "int-range", "select int4range(1, 5) as r, numrange(1.5, 2.5, '[]') as n");
one("typing", "tsvector", "select to_tsvector('english', 'The quick brown foxes') as v");
one("typing", "interval-type", "select '1 year 2 mons'::interval as i");
one(
  "typing",
  "numeric-rounding",
  "select round(2.5) as a, round(3.5) as b, round(-2.5) as c, round(2.345, 2) as d, trunc(2.99) as e",
);
one("typing", "integer-division", "select 7 / 2 as i, 7 % 3 as m, -7 / 2 as n, 7.0 / 2 as f");
one("typing", "float-formatting", "select 1e20::float8 as big, 1e-7::float8 as small, 100::float8 as whole");
one("typing", "numeric-scale-preserved", "select 1.500::numeric as n, 2::numeric(5, 3) as m");
one("typing", "count-is-bigint", "select pg_typeof(count(*))::text as t from customers");
one(
  "typing",
  "sum-int-is-bigint",
  "select sum(x)::text as s, pg_typeof(sum(x))::text as t from (values (1), (2)) v(x)",
);
one("typing", "avg-int-is-numeric", "select avg(x) as a from (values (1), (2)) v(x)");
one("typing", "serial-is-int4", "insert into jobs (queue, run_at) values ('t', '2024-01-01') returning id");
one(
  "typing",
  "bigserial-is-int8",
  "insert into orders (customer_id, total, placed_at) values (3, 1, '2024-05-01') returning id",
);
one("typing", "identity-is-int8", "insert into events (kind, at) values ('k', '2024-01-01') returning id");
one("typing", "select-fields-of-empty-result", "select id, email from customers where false");
one("typing", "command-tags", "update counters set value = value where false");
one("typing", "unicode-text", "select 'emoji 🎉 ü ß 中' as s, length('🎉') as n");
one("typing", "escape-string", "select E'line1\\nline2' as s, 'it''s' as q");
one("typing", "nan-numeric", "select 'NaN'::numeric as n");

// --- Reset semantics, through the factory ---------------------------------------------------------
one(
  "reset",
  "reference-rows-present",
  "select email, status, tags, profile, balance from customers order by id",
);
one(
  "reset",
  "reference-orders-present",
  "select id, customer_id, total, placed_at, note from orders order by id",
);
one(
  "reset",
  "serial-continues-after-migration-rows",
  "insert into customers (email) values ('next@x.test') returning id",
);
one(
  "reset",
  "bigserial-continues",
  "insert into orders (customer_id, total, placed_at) values (2, 1, '2024-06-01') returning id",
);
one(
  "reset",
  "identity-starts-at-one",
  "insert into events (kind, at) values ('first', '2024-01-01') returning id",
);
one("reset", "standalone-sequence-at-start", "select nextval('ticket_numbers') as n");
one("reset", "counter-value-as-migrated", "select value from counters where name = 'hits'");
one("reset", "jobs-unlocked", "select id, locked_by from jobs order by id");
add("reset", "write-then-next-case-sees-migrated-state", [
  "update customers set name = 'changed' where id = 1",
  "delete from orders where id = 3",
  "select count(*) from orders",
]);
one("reset", "after-write-case-rows-are-back", "select name from customers where id = 1");
one("reset", "after-write-case-order-3-back", "select note from orders where id = 3");
one(
  "reset",
  "no-leftover-tables",
  "select table_name from information_schema.tables where table_schema = current_schema() order by table_name",
);
one("reset", "no-open-transaction", "savepoint probe");
one("reset", "sequence-after-failed-insert", "insert into customers (email) values ('ada@x.test')");
one(
  "reset",
  "sequence-after-failed-insert-next",
  "insert into customers (email) values ('fresh@x.test') returning id",
);

/** Every case, in order. */
export const corpus: readonly Case[] = cases;
