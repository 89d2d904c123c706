-- The schema the fidelity corpus runs against: the kinds of columns and constraints services use.
create type status as enum ('new', 'active', 'closed');

create table customers (
  id serial primary key,
  email text not null unique,
  name text,
  status status not null default 'new',
  tags text[] not null default '{}',
  profile jsonb not null default '{}',
  balance numeric(12, 2) not null default 0 check (balance >= -1000),
  created_at timestamptz not null default '2024-01-01T00:00:00Z'
);

create table orders (
  id bigserial primary key,
  customer_id integer not null references customers (id) on delete cascade,
  total numeric(10, 2) not null,
  placed_at timestamptz not null,
  note text,
  unique (customer_id, placed_at)
);

create table jobs (
  id serial primary key,
  queue text not null,
  payload jsonb,
  locked_by text,
  run_at timestamptz not null
);

create table counters (
  name text primary key,
  value bigint not null default 0
);

create table blobs (
  id integer primary key,
  data bytea
);

create table events (
  id bigint generated always as identity primary key,
  kind text not null,
  at timestamp not null,
  day date,
  span interval,
  uid uuid
);

create sequence ticket_numbers start 100;
