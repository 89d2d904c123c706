create table runs (
  id text primary key,
  tenant_id text not null,
  user_id text not null,
  state text not null check (state in ('running', 'completed', 'failed')),
  thread_id text,
  error text,
  updated_at timestamptz not null default now()
);
