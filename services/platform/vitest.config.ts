import { integrationConfig } from "@org/test-support/vitest/config";
import { defineConfig } from "vitest/config";

export default defineConfig(integrationConfig({ service: "platform", root: new URL(".", import.meta.url) }));
