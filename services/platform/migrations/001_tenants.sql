create table tenants (
  id text primary key,
  name text not null unique,
  owner_user_id text not null,
  created_at timestamptz not null default now()
);

create table memberships (
  tenant_id text not null references tenants (id),
  user_id text not null,
  role text not null check (role in ('member', 'admin')),
  primary key (tenant_id, user_id)
);
