import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { OpenFgaClient } from "@openfga/sdk";
import type pg from "pg";
import {
  AddMemberResponseSchema,
  CheckAccessResponseSchema,
  CreateTenantResponseSchema,
  DeleteTenantResponseSchema,
  GetTenantResponseSchema,
  ListMembersResponseSchema,
  MemberSchema,
  Permission,
  type PlatformService,
  Role,
  TenantSchema,
} from "./gen/platform/v1/platform_pb.js";
import { TenantRepository } from "./repository.js";

/** What the platform service needs: its database and its OpenFGA client (store and model set). */
export interface PlatformDependencies {
  db: pg.Pool;
  authz: OpenFgaClient;
}

const USER_ID = /^[A-Za-z0-9_.@-]{1,128}$/;
const TENANT_ID = /^[0-9a-f-]{36}$/;

function required(value: string, field: string, pattern: RegExp, example: string): string {
  if (!value) throw new ConnectError(`${field} is required`, Code.InvalidArgument);
  if (!pattern.test(value)) {
    throw new ConnectError(
      `${field} ${JSON.stringify(value)} is malformed; expected e.g. ${example}`,
      Code.InvalidArgument,
    );
  }
  return value;
}

const roleName = (role: Role) => (role === Role.ADMIN ? "admin" : "member");

/** The platform service's handlers over its repository and OpenFGA. */
export function createPlatformService(deps: PlatformDependencies): ServiceImpl<typeof PlatformService> {
  const tenants = new TenantRepository(deps.db);
  const tenantOrThrow = async (tenantId: string) => {
    const id = required(tenantId, "tenant_id", TENANT_ID, "a UUID returned by CreateTenant");
    const tenant = await tenants.find(id);
    if (!tenant) throw new ConnectError(`tenant ${id} not found`, Code.NotFound);
    return tenant;
  };

  return {
    async createTenant(request) {
      const name = request.name.trim();
      if (name.length < 2 || name.length > 64) {
        throw new ConnectError("name must be 2 to 64 characters", Code.InvalidArgument);
      }
      const owner = required(request.ownerUserId, "owner_user_id", USER_ID, "ada");
      const tenant = { id: randomUUID(), name, owner_user_id: owner };
      try {
        await tenants.create(tenant);
      } catch (error) {
        if ((error as { code?: string }).code === "23505") {
          throw new ConnectError(`a tenant named ${JSON.stringify(name)} already exists`, Code.AlreadyExists);
        }
        throw error;
      }
      await deps.authz.writeTuples([
        { user: `user:${owner}`, relation: "admin", object: `tenant:${tenant.id}` },
      ]);
      return create(CreateTenantResponseSchema, {
        tenant: create(TenantSchema, { id: tenant.id, name, ownerUserId: owner }),
      });
    },

    async getTenant(request) {
      const tenant = await tenantOrThrow(request.tenantId);
      return create(GetTenantResponseSchema, {
        tenant: create(TenantSchema, { id: tenant.id, name: tenant.name, ownerUserId: tenant.owner_user_id }),
      });
    },

    async addMember(request) {
      const tenant = await tenantOrThrow(request.tenantId);
      const userId = required(request.userId, "user_id", USER_ID, "grace");
      if (request.role === Role.UNSPECIFIED) {
        throw new ConnectError("role is required: ROLE_MEMBER or ROLE_ADMIN", Code.InvalidArgument);
      }
      await tenants.upsertMember(tenant.id, { user_id: userId, role: roleName(request.role) });
      await deps.authz.write(
        {
          writes: [
            { user: `user:${userId}`, relation: roleName(request.role), object: `tenant:${tenant.id}` },
          ],
        },
        { conflict: { onDuplicateWrites: "ignore" as never } },
      );
      return create(AddMemberResponseSchema, {
        member: create(MemberSchema, { userId, role: request.role }),
      });
    },

    async listMembers(request) {
      const tenant = await tenantOrThrow(request.tenantId);
      const members = await tenants.members(tenant.id);
      return create(ListMembersResponseSchema, {
        members: members.map((m) =>
          create(MemberSchema, { userId: m.user_id, role: m.role === "admin" ? Role.ADMIN : Role.MEMBER }),
        ),
      });
    },

    async checkAccess(request) {
      const tenant = await tenantOrThrow(request.tenantId);
      const userId = required(request.userId, "user_id", USER_ID, "ada");
      if (request.permission === Permission.UNSPECIFIED) {
        throw new ConnectError(
          "permission is required: PERMISSION_VIEW or PERMISSION_MANAGE",
          Code.InvalidArgument,
        );
      }
      const relation = request.permission === Permission.MANAGE ? "can_manage" : "can_view";
      const { allowed } = await deps.authz.check({
        user: `user:${userId}`,
        relation,
        object: `tenant:${tenant.id}`,
      });
      return create(CheckAccessResponseSchema, { allowed: allowed === true });
    },

    async deleteTenant(request) {
      const tenant = await tenantOrThrow(request.tenantId);
      const userId = required(request.userId, "user_id", USER_ID, "ada");
      const object = `tenant:${tenant.id}`;
      const { allowed } = await deps.authz.check({ user: `user:${userId}`, relation: "can_manage", object });
      if (!allowed)
        throw new ConnectError(`user ${userId} may not delete tenant ${tenant.id}`, Code.PermissionDenied);
      await tenants.delete(tenant.id);
      // Its access goes with it: every tuple on the tenant, page by page.
      for (;;) {
        const { tuples } = await deps.authz.read({ object }, { pageSize: 100 });
        if (tuples.length === 0) break;
        await deps.authz.deleteTuples(
          tuples.map(({ key }) => ({ user: key.user, relation: key.relation, object: key.object })),
        );
      }
      return create(DeleteTenantResponseSchema, {});
    },
  };
}
