create table threads (
  id text primary key,
  tenant_id text not null,
  title text not null,
  created_by text not null,
  created_at timestamptz not null default now()
);

create table messages (
  id text primary key,
  thread_id text not null references threads (id),
  seq integer not null,
  author_user_id text not null,
  body text not null,
  created_at timestamptz not null default now(),
  unique (thread_id, seq)
);
