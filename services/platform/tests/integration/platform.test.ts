import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { integrationTest } from "@org/test-support/vitest";
import { describe, expect } from "vitest";
import { Permission, Role } from "../../src/index.js";
import { platformService } from "../../src/testing/index.js";

// Written once: in repo/local the handlers run in-process on doubles; in cluster the suite reaches the
// running service over gRPC. Each test makes a tenant of its own, so runs never see each other's data.
const test = integrationTest({ service: "platform", dependencies: { platform: platformService() } });
const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function connectCode(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await call;
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected the call to fail");
}

describe("platform service", () => {
  test("creates a tenant whose owner is its first admin @smoke", async ({ clients }) => {
    const { tenant } = await clients.platform.createTenant({ name: unique("acme"), ownerUserId: "ada" });
    expect(tenant?.id).toMatch(/^[0-9a-f-]{36}$/);
    const fetched = await clients.platform.getTenant({ tenantId: tenant?.id });
    expect(fetched.tenant?.ownerUserId).toBe("ada");
    const { members } = await clients.platform.listMembers({ tenantId: tenant?.id });
    expect(members.map((m) => [m.userId, m.role])).toEqual([["ada", Role.ADMIN]]);
  });

  test("admins manage and view; members view only; strangers neither", async ({ clients }) => {
    const { tenant } = await clients.platform.createTenant({ name: unique("globex"), ownerUserId: "ada" });
    const tenantId = tenant?.id ?? "";
    await clients.platform.addMember({ tenantId, userId: "grace", role: Role.MEMBER });
    const can = async (userId: string, permission: Permission) =>
      (await clients.platform.checkAccess({ tenantId, userId, permission })).allowed;
    expect(await can("ada", Permission.MANAGE)).toBe(true);
    expect(await can("ada", Permission.VIEW)).toBe(true);
    expect(await can("grace", Permission.VIEW)).toBe(true);
    expect(await can("grace", Permission.MANAGE)).toBe(false);
    expect(await can("mallory", Permission.VIEW)).toBe(false);
    await clients.platform.addMember({ tenantId, userId: "grace", role: Role.ADMIN });
    expect(await can("grace", Permission.MANAGE)).toBe(true);
    const { members } = await clients.platform.listMembers({ tenantId });
    expect(members.map((m) => m.userId)).toEqual(["ada", "grace"]);
  });

  test("only an admin deletes a tenant, and its members and access go with it", async ({ clients }) => {
    const { tenant } = await clients.platform.createTenant({ name: unique("soylent"), ownerUserId: "ada" });
    const tenantId = tenant?.id ?? "";
    await clients.platform.addMember({ tenantId, userId: "grace", role: Role.MEMBER });
    const denied = await connectCode(clients.platform.deleteTenant({ tenantId, userId: "grace" }));
    expect(denied.code).toBe(Code.PermissionDenied);
    await clients.platform.deleteTenant({ tenantId, userId: "ada" });
    expect((await connectCode(clients.platform.getTenant({ tenantId }))).code).toBe(Code.NotFound);
    expect(
      (
        await connectCode(
          clients.platform.checkAccess({ tenantId, userId: "ada", permission: Permission.VIEW }),
        )
      ).code,
    ).toBe(Code.NotFound);
  });

  test("GetTenant and ListMembers reject a malformed tenant id", async ({ clients }) => {
    const get = await connectCode(clients.platform.getTenant({ tenantId: "acme" }));
    expect(get).toEqual({
      code: Code.InvalidArgument,
      message: 'tenant_id "acme" is malformed; expected e.g. a UUID returned by CreateTenant',
    });
    expect((await connectCode(clients.platform.listMembers({ tenantId: "" }))).message).toBe(
      "tenant_id is required",
    );
  });

  test("an unknown tenant is not found", async ({ clients }) => {
    const error = await connectCode(clients.platform.getTenant({ tenantId: randomUUID() }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.message).toMatch(/^tenant .* not found$/);
  });

  test("a second tenant with the same name already exists", async ({ clients }) => {
    const name = unique("initech");
    await clients.platform.createTenant({ name, ownerUserId: "ada" });
    expect((await connectCode(clients.platform.createTenant({ name, ownerUserId: "bob" }))).code).toBe(
      Code.AlreadyExists,
    );
  });

  test.for([
    ["a one-letter name", { name: "x", ownerUserId: "ada" }, "name must be 2 to 64 characters"],
    ["no owner", { name: "umbrella", ownerUserId: "" }, "owner_user_id is required"],
    [
      "an owner with spaces",
      { name: "umbrella", ownerUserId: "ada lovelace" },
      'owner_user_id "ada lovelace" is malformed',
    ],
  ] as const)("CreateTenant with %s is an invalid argument", async ([, request, message], { clients }) => {
    const error = await connectCode(clients.platform.createTenant(request));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.message).toContain(message);
  });

  test("AddMember and CheckAccess reject what they cannot use", async ({ clients }) => {
    const { tenant } = await clients.platform.createTenant({ name: unique("hooli"), ownerUserId: "ada" });
    const tenantId = tenant?.id ?? "";
    const noRole = await connectCode(clients.platform.addMember({ tenantId, userId: "grace" }));
    expect(noRole).toEqual({
      code: Code.InvalidArgument,
      message: "role is required: ROLE_MEMBER or ROLE_ADMIN",
    });
    const badTenant = await connectCode(
      clients.platform.checkAccess({ tenantId: "acme", userId: "ada", permission: Permission.VIEW }),
    );
    expect(badTenant.code).toBe(Code.InvalidArgument);
    const noPermission = await connectCode(clients.platform.checkAccess({ tenantId, userId: "ada" }));
    expect(noPermission.code).toBe(Code.InvalidArgument);
  });
});
