export {
  type AddMemberRequest,
  type CheckAccessRequest,
  type CreateTenantRequest,
  type Member,
  Permission,
  PlatformService,
  Role,
  type Tenant,
} from "./gen/platform/v1/platform_pb.js";
export { migrate, platformMigrations } from "./migrate.js";
export { type MembershipRow, TenantRepository, type TenantRow } from "./repository.js";
export { createPlatformServer } from "./server.js";
export { createPlatformService, type PlatformDependencies } from "./service.js";
