import type pg from "pg";

/** A tenant row. */
export interface TenantRow {
  id: string;
  name: string;
  owner_user_id: string;
}

/** A membership row. */
export interface MembershipRow {
  user_id: string;
  role: "member" | "admin";
}

/** Tenants and memberships in PostgreSQL (a pg Pool, or pg-mem's in tests). */
export class TenantRepository {
  constructor(private readonly db: pg.Pool) {}

  async create(tenant: TenantRow): Promise<void> {
    const client = await this.db.connect();
    try {
      await client.query("insert into tenants (id, name, owner_user_id) values ($1, $2, $3)", [
        tenant.id,
        tenant.name,
        tenant.owner_user_id,
      ]);
      await client.query("insert into memberships (tenant_id, user_id, role) values ($1, $2, 'admin')", [
        tenant.id,
        tenant.owner_user_id,
      ]);
    } finally {
      client.release();
    }
  }

  async find(id: string): Promise<TenantRow | undefined> {
    const { rows } = await this.db.query<TenantRow>(
      "select id, name, owner_user_id from tenants where id = $1",
      [id],
    );
    return rows[0];
  }

  async upsertMember(tenantId: string, member: MembershipRow): Promise<void> {
    await this.db.query(
      "insert into memberships (tenant_id, user_id, role) values ($1, $2, $3) on conflict (tenant_id, user_id) do update set role = excluded.role",
      [tenantId, member.user_id, member.role],
    );
  }

  async members(tenantId: string): Promise<MembershipRow[]> {
    const { rows } = await this.db.query<MembershipRow>(
      "select user_id, role from memberships where tenant_id = $1 order by user_id",
      [tenantId],
    );
    return rows;
  }

  async delete(tenantId: string): Promise<void> {
    await this.db.query("delete from memberships where tenant_id = $1", [tenantId]);
    await this.db.query("delete from tenants where id = $1", [tenantId]);
  }
}
