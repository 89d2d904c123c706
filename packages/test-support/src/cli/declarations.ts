import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ServiceDeclaration } from "../declaration.js";

/** Where each package keeps its declaration: services in ./testing, this package beside its tests. */
const CANDIDATES = ["src/testing/index.ts", "tests/declaration.ts"];

const isDeclaration = (value: unknown): value is ServiceDeclaration =>
  typeof value === "object" && value !== null && "service" in value && "dependencies" in value;

/** Every service declaration of the workspace at `root` (packages/* and services/*), by service name. */
export async function loadDeclarations(root: string): Promise<ServiceDeclaration[]> {
  const found: ServiceDeclaration[] = [];
  for (const group of ["packages", "services"]) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      for (const candidate of CANDIDATES) {
        const file = join(dir, name, candidate);
        if (!existsSync(file)) continue;
        const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
        found.push(...Object.values(module).filter(isDeclaration));
      }
    }
  }
  return found.sort((a, b) => a.service.localeCompare(b.service));
}
