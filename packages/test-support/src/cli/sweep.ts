// `pnpm test:integration sweep [--dry-run]`: removes what dead runs left on the live servers, i.e. the
// objects of every expired lease (see src/lease/), and nothing else.
import type { ServiceDeclaration } from "../declaration.js";
import type { EnvironmentVariables } from "../dependency.js";
import { errorText } from "../errors.js";
import type { SweepReport } from "../lease/lease.js";
import { sweepOpenFga } from "../lease/openfga-lease.js";
import { sweepPostgres } from "../lease/postgres-lease.js";
import { sweepProcesses } from "../lease/process-lease.js";
import { sweepRedis } from "../lease/redis-lease.js";
import { sweepTemporal } from "../lease/temporal-lease.js";
import { ambiguousUserinfo, redactTarget } from "../redact.js";

/** The kinds whose servers hold leases. */
export const SWEPT_KINDS = ["postgres", "redis", "openfga", "temporal"] as const;
export type SweptKind = (typeof SWEPT_KINDS)[number];

/** One server to sweep. */
export interface SweepTarget {
  readonly kind: SweptKind;
  /** The server's URL; for temporal, `host:port/namespace`. */
  readonly url: string;
  /** Where the URL came from (a variable, or --postgres ...), for the report. */
  readonly source: string;
}

/** The servers the declarations' variables point at, once each; an unset variable is skipped. */
export function sweepTargetsOf(
  declarations: readonly ServiceDeclaration[],
  env: EnvironmentVariables,
): SweepTarget[] {
  const targets = new Map<string, SweepTarget>();
  for (const { dependencies } of declarations) {
    for (const dependency of Object.values(dependencies)) {
      const kind = dependency.kind as SweptKind;
      if (!SWEPT_KINDS.includes(kind)) continue;
      const variable = dependency.variables[0];
      let url = variable ? env[variable] : undefined;
      // A Temporal server holds leases per namespace: its second variable names it.
      if (kind === "temporal") {
        const namespace = env[dependency.variables[1] ?? ""];
        url = url && namespace ? `${url}/${namespace}` : undefined;
      }
      if (!variable || !url) continue;
      const key = `${kind} ${url}`;
      if (!targets.has(key)) targets.set(key, { kind, url, source: variable });
    }
  }
  return [...targets.values()];
}

/** Sweeps one server; a server that cannot be reached is reported as a failure, never skipped silently. */
async function sweepOne(
  target: SweepTarget,
  options: { dryRun: boolean; timeoutMs: number },
): Promise<SweepReport> {
  const label = `${target.kind} at ${redactTarget(target.url)} (${target.source})`;
  if (ambiguousUserinfo(target.url)) {
    return {
      server: label,
      expired: [],
      live: 0,
      failed: [
        {
          object: "(the server)",
          error: "its URL does not parse unambiguously; percent-encode the password",
        },
      ],
    };
  }
  try {
    if (target.kind === "postgres") return await sweepPostgres(target.url, label, options);
    if (target.kind === "redis") return await sweepRedis(target.url, label, options);
    if (target.kind === "temporal") {
      const slash = target.url.indexOf("/");
      if (slash === -1) throw new Error("name the namespace too, as host:port/namespace");
      return await sweepTemporal(target.url.slice(0, slash), target.url.slice(slash + 1), label, options);
    }
    return await sweepOpenFga(
      { apiUrl: target.url, token: undefined, timeoutMs: options.timeoutMs },
      label,
      options,
    );
  } catch (error) {
    const text = errorText(error).split(target.url).join(redactTarget(target.url));
    return { server: label, expired: [], live: 0, failed: [{ object: "(the server)", error: text }] };
  }
}

/** Sweeps every target and prints what it removed (or would remove); false when anything failed. */
export async function sweep(
  targets: readonly SweepTarget[],
  options: { dryRun: boolean; timeoutMs: number; processLeases?: string },
  print: (line: string) => void,
): Promise<{ ok: boolean; reports: SweepReport[] }> {
  const verb = options.dryRun ? "would remove" : "removed";
  const processes = options.processLeases ? [sweepProcesses(options.processLeases, options)] : [];
  if (targets.length === 0 && processes.length === 0) {
    print(
      "[sweep] no server to sweep: set the cluster variables (--vars-file .env.integration) or name servers with --postgres, --redis, --openfga, --temporal.",
    );
    return { ok: true, reports: [] };
  }
  const reports: SweepReport[] = [];
  for (const target of [...processes, ...targets]) {
    const report = "kind" in target ? await sweepOne(target, options) : target;
    reports.push(report);
    print(`[sweep] ${report.server}`);
    for (const object of report.expired)
      print(`  ${verb} ${object.object}${object.holder ? ` (lease of ${object.holder}, expired)` : ""}`);
    for (const failure of report.failed) print(`  could not remove ${failure.object}: ${failure.error}`);
    print(
      `  ${report.expired.length} expired lease(s) ${options.dryRun ? "found" : "swept"}; ${report.live} live lease(s) left alone`,
    );
  }
  return { ok: reports.every((r) => r.failed.length === 0), reports };
}
