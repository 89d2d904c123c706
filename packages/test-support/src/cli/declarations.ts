import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ServiceDeclaration } from "../declaration.js";

/** Where each package keeps its declaration: services in ./testing, this package beside its tests. */
const CANDIDATES = ["src/testing/index.ts", "tests/declaration.ts"];

const isDeclaration = (value: unknown): value is ServiceDeclaration =>
  typeof value === "object" && value !== null && "service" in value && "dependencies" in value;

/** A declaration and the workspace package that holds it. */
export interface PackageDeclaration {
  /** The package's name, e.g. @org/threads. */
  packageName: string;
  /** The package's folder relative to the workspace root, e.g. services/threads. */
  path: string;
  declaration: ServiceDeclaration;
}

function packageNameOf(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/**
 * Every service declaration of the workspace at `root` (packages/* and services/*) with its package. A
 * declaration that cannot be loaded (its package's dependencies are not built yet) is reported through
 * `onProblem` and left out, so a report still covers the rest.
 */
export async function loadPackageDeclarations(
  root: string,
  onProblem: (message: string) => void = () => {},
): Promise<PackageDeclaration[]> {
  const found: PackageDeclaration[] = [];
  for (const group of ["packages", "services"]) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const packageDir = join(dir, name);
      const packageName = packageNameOf(packageDir) ?? name;
      for (const candidate of CANDIDATES) {
        const file = join(packageDir, candidate);
        if (!existsSync(file)) continue;
        try {
          const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
          for (const declaration of Object.values(module).filter(isDeclaration))
            found.push({ packageName, path: `${group}/${name}`, declaration });
        } catch (error) {
          onProblem(
            `${group}/${name}: its declaration did not load (${(error as Error).message.split("\n")[0]}); run pnpm build first`,
          );
        }
      }
    }
  }
  return found.sort((a, b) => a.declaration.service.localeCompare(b.declaration.service));
}

/** Every service declaration of the workspace at `root`, by service name (see loadPackageDeclarations). */
export async function loadDeclarations(
  root: string,
  onProblem: (message: string) => void = () => {},
): Promise<ServiceDeclaration[]> {
  return (await loadPackageDeclarations(root, onProblem)).map((d) => d.declaration);
}
