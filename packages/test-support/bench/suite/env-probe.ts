// One process of `pnpm bench`, in one mode (INTEGRATION_MODE, set by the runner): per dependency kind,
// environment set-ups after the first (the first, which loads the kind's libraries, is measured by the
// import probes in fresh processes), resets after a small test's writes, and a whole test on a
// postgres + redis environment. Prints one JSON object of samples (ms) on stdout. A CPU calibration is
// sampled between the blocks, so the runner can report each in-process figure as a ratio to it.
import { HttpResponse, http as route } from "msw";
import {
  createIntegrationEnvironment,
  type DependencyMap,
  http,
  type IntegrationEnvironment,
  isTestSupportError,
  openfga,
  postgres,
  redis,
  temporal,
} from "../../src/index.js";
import { integrationModeFrom } from "../../src/mode.js";
import { ALL_ENGINES, type EnvProbeResult, type ProbeRequest } from "./env-protocol.js";

const request = JSON.parse(process.argv[2] ?? "{}") as ProbeRequest;
const migrations = new URL("../../tests/fixtures/migrations/", import.meta.url);
const model = new URL("../../tests/fixtures/authz.fga", import.meta.url);
const tuples = [
  { user: "user:ada", relation: "admin", object: "tenant:acme" },
  { user: "tenant:acme", relation: "tenant", object: "document:plan" },
];

type Kind = {
  dependencies: () => DependencyMap;
  /** A small test's writes, undone by the reset that follows. */
  write: (clients: Record<string, unknown>) => Promise<void>;
};

/** The pause before each measured local set-up: a test file's tests, which run between two files' set-ups. */
const BETWEEN_FILES_MS = 300;

const kinds: Record<string, Kind> = {
  "postgres (PGlite)": {
    dependencies: () => ({ db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }) }),
    write: (clients) => writeRows(clients.db as PgLike),
  },
  "postgres (pg-mem)": {
    dependencies: () => ({
      db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL", engine: "pg-mem" }),
    }),
    write: (clients) => writeRows(clients.db as PgLike),
  },
  redis: {
    dependencies: () => ({ cache: redis({ urlEnv: "REDIS_URL" }) }),
    write: (clients) => writeKeys(clients.cache as RedisLike),
  },
  openfga: {
    dependencies: () => ({ authz: openfga({ model }) }),
    write: async (clients) => {
      await (clients.authz as { writeTuples(t: typeof tuples): Promise<unknown> }).writeTuples(tuples);
    },
  },
  temporal: {
    dependencies: () => ({
      workflows: temporal({
        namespaceEnv: "TEMPORAL_NAMESPACE",
        addressEnv: "TEMPORAL_ADDRESS",
        taskQueue: "bench",
        stub: { bench: { run: () => "done" } },
      }),
    }),
    write: async (clients) => {
      const { workflow } = clients.workflows as {
        workflow: { start(type: string, options: object): Promise<unknown> };
      };
      await workflow.start("bench", { taskQueue: "bench", workflowId: `bench-${process.hrtime.bigint()}` });
    },
  },
  http: {
    dependencies: () => ({
      upstream: http({
        baseUrlEnv: "BENCH_UPSTREAM_URL",
        handlers: [route.get("*/ping", () => HttpResponse.json({ ok: true }))],
      }),
    }),
    write: async (clients) => {
      const upstream = clients.upstream as { fetch: typeof fetch };
      await (await upstream.fetch("/ping")).json();
    },
  },
};

// A test file that uses every engine local mode starts: issue 14's set-up target (< 200 ms in local mode
// once the engines are up) is read off this row.
kinds[ALL_ENGINES] = {
  dependencies: () => ({
    ...kinds["postgres (PGlite)"]?.dependencies(),
    ...kinds.redis?.dependencies(),
    ...kinds.openfga?.dependencies(),
    ...kinds.temporal?.dependencies(),
  }),
  write: async (clients) => {
    await writeRows(clients.db as PgLike);
    await writeKeys(clients.cache as RedisLike);
  },
};

type PgLike = { query(text: string, values?: unknown[]): Promise<{ rows: { id: number }[] }> };
type RedisLike = {
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<unknown>;
  pipeline(): { set(key: string, value: string): unknown; exec(): Promise<unknown> };
};

async function writeRows(db: PgLike): Promise<void> {
  const { rows } = await db.query(
    "insert into accounts (email) values ('a@x.test'), ('b@x.test'), ('c@x.test'), ('d@x.test'), ('e@x.test') returning id",
  );
  await db.query(
    "insert into notes (account_id, body) values ($1, 'n'), ($2, 'n'), ($3, 'n'), ($4, 'n'), ($5, 'n')",
    rows.map((row) => row.id),
  );
}

async function writeKeys(cache: RedisLike): Promise<void> {
  const pipeline = cache.pipeline();
  for (let i = 0; i < 10; i++) pipeline.set(`k:${i}`, "v");
  await pipeline.exec();
}

/** A whole test of a postgres + redis suite: 20 inserts, 5 selects, 10 writes and 5 reads of keys, a reset. */
async function wholeTest(
  env: IntegrationEnvironment<{ db: ReturnType<typeof postgres>; cache: ReturnType<typeof redis> }>,
) {
  const { db, cache } = env.clients;
  for (let i = 0; i < 20; i++) await db.query("insert into accounts (email) values ($1)", [`u${i}@x.test`]);
  for (let i = 0; i < 5; i++)
    await db.query("select id, email from accounts where email = $1", [`u${i}@x.test`]);
  for (let i = 0; i < 10; i++) await cache.set(`k:${i}`, "v");
  for (let i = 0; i < 5; i++) await cache.get(`k:${i}`);
  await env.reset();
}

/** A fixed CPU and allocation workload: the unit the in-process figures are divided by. */
const payload = Array.from({ length: 2000 }, (_, i) => ({
  id: i,
  name: `row ${i}`,
  tags: ["a", "b", String(i)],
  n: i / 7,
}));
function calibrate(samples: number[]): void {
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    for (let j = 0; j < 10; j++) JSON.parse(JSON.stringify(payload));
    samples.push(performance.now() - started);
  }
}

const silent = { emit() {} };
const result: EnvProbeResult = { calibration: [], setup: {}, reset: {}, wholeTest: [], notRun: {} };

async function open<D extends DependencyMap>(dependencies: D) {
  return createIntegrationEnvironment({ service: "bench", dependencies, telemetry: silent });
}

for (const name of request.kinds) {
  const kind = kinds[name];
  if (!kind) throw new Error(`unknown kind ${name}`);
  calibrate(result.calibration);
  const setups: number[] = [];
  const resets: number[] = [];
  try {
    // The first set-up loads the kind's libraries; the import probes measure it in fresh processes.
    const first = await open(kind.dependencies());
    result.mode = first.mode;
    await first.close();
    for (let i = 0; i < request.setups; i++) {
      // Between one file's environment and the next, the file's tests run, and local mode's supervisor copies
      // the next database meanwhile; 300 ms (not measured) stand for them. Only local mode does work in the
      // background, so only it waits (and --quick stays under a minute).
      if (integrationModeFrom() === "local")
        await new Promise((resolve) => setTimeout(resolve, BETWEEN_FILES_MS));
      const started = performance.now();
      const env = await open(kind.dependencies());
      setups.push(performance.now() - started);
      if (i < request.setups - 1) await env.close();
      else {
        for (let r = 0; r < request.resets; r++) {
          await kind.write(env.clients);
          const resetStarted = performance.now();
          await env.reset();
          resets.push(performance.now() - resetStarted);
        }
        await env.close();
      }
    }
    result.setup[name] = setups;
    result.reset[name] = resets;
  } catch (error) {
    if (!isTestSupportError(error)) throw error;
    result.notRun[name] = error.message.split(". ")[0] ?? error.message;
  }
}

if (request.wholeTests > 0) {
  calibrate(result.calibration);
  try {
    const env = await open({
      db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }),
      cache: redis({ urlEnv: "REDIS_URL" }),
    });
    result.mode = env.mode;
    await wholeTest(env);
    for (let i = 0; i < request.wholeTests; i++) {
      const started = performance.now();
      await wholeTest(env);
      result.wholeTest.push(performance.now() - started);
    }
    await env.close();
  } catch (error) {
    if (!isTestSupportError(error)) throw error;
    result.notRun["whole test"] = error.message.split(". ")[0] ?? error.message;
  }
}
calibrate(result.calibration);
process.stdout.write(`${JSON.stringify(result)}\n`);
