import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  GetTenantResponseSchema,
  PlatformService,
  TenantSchema,
} from "../../src/gen/platform/v1/platform_pb.js";
import { createPlatformTransport } from "../../src/testing/index.js";

// The typed mock transport consumers use: overrides answer, and a method nobody implemented fails by name.
describe("createPlatformTransport", () => {
  const client = createClient(
    PlatformService,
    createPlatformTransport(undefined, {
      getTenant: (request) =>
        create(GetTenantResponseSchema, {
          tenant: create(TenantSchema, { id: request.tenantId, name: "stubbed" }),
        }),
    }),
  );

  it("answers with a per-method override", async () => {
    expect((await client.getTenant({ tenantId: "t-1" })).tenant?.name).toBe("stubbed");
  });

  it("fails a method nobody answers with Unimplemented, naming it", async () => {
    const error = await client.checkAccess({ tenantId: "t-1", userId: "ada" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.Unimplemented);
    expect(error?.rawMessage).toContain("CheckAccess");
  });
});
