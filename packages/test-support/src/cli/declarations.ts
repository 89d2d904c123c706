import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ServiceDeclaration } from "../declaration.js";

/** Where each package keeps its declaration: services in ./testing, this package beside its tests. */
const CANDIDATES = ["src/testing/index.ts", "tests/declaration.ts"];

const isDeclaration = (value: unknown): value is ServiceDeclaration =>
  typeof value === "object" && value !== null && "service" in value && "dependencies" in value;

/**
 * Every service declaration of the workspace at `root` (packages/* and services/*), by service name. A
 * declaration that cannot be loaded (its package's dependencies are not built yet) is reported through
 * `onProblem` and left out, so a report still covers the rest.
 */
export async function loadDeclarations(
  root: string,
  onProblem: (message: string) => void = () => {},
): Promise<ServiceDeclaration[]> {
  const found: ServiceDeclaration[] = [];
  for (const group of ["packages", "services"]) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      for (const candidate of CANDIDATES) {
        const file = join(dir, name, candidate);
        if (!existsSync(file)) continue;
        try {
          const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
          found.push(...Object.values(module).filter(isDeclaration));
        } catch (error) {
          onProblem(
            `${group}/${name}: its declaration did not load (${(error as Error).message.split("\n")[0]}); run pnpm build first`,
          );
        }
      }
    }
  }
  return found.sort((a, b) => a.service.localeCompare(b.service));
}
