// Runs one random scenario (tests/openfga-random.ts) against two OpenFGA HTTP APIs, the in-memory one and a
// real server, and compares every answer. Where they differ, asks the real server again (the same request,
// and the same question through its other endpoints) to tell a defect of the double from the real server
// contradicting itself.
import { generateScenario, type Query, type Scenario } from "./openfga-random.js";

/** An OpenFGA HTTP API: a method, a path and a JSON body in, a status and a JSON body out. */
export type FgaApi = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>;

/** An API over fetch, e.g. on a real server's URL. */
export function httpApi(baseUrl: string, token?: string): FgaApi {
  const base = baseUrl.replace(/\/+$/, "");
  return async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** One compared answer that differs. */
export interface Difference {
  seed: number;
  endpoint: string;
  tags: string[];
  request: unknown;
  real: string;
  double: string;
  /** "double": the double's defect; "server-contradiction": the real server's own answers disagree. */
  verdict: "double" | "server-contradiction" | "server-nondeterministic" | "server-planner" | "server-race";
  note?: string;
}

export interface SeedResult {
  seed: number;
  comparisons: number;
  differences: Difference[];
  /** Answers whose error messages differ although the codes agree (reported, not counted as mismatches). */
  messageDifferences: { endpoint: string; real: string; double: string }[];
  /**
   * Where the real server's list endpoints list something its own check denies: the server contradicting
   * itself, found whether or not the double agrees with the list.
   */
  contradictions: { seed: number; endpoint: string; request: unknown; item: string; check: string }[];
}

type Answer = { text: string; message?: string; items?: string[] };

const errorAnswer = (body: unknown): Answer => {
  const { code, message } = (body ?? {}) as { code?: string; message?: string };
  return { text: `error ${code ?? "?"}`, message };
};

/** The comparable form of a response to `query`: a value or an error code. */
function normalize(
  endpoint: Query["endpoint"] | "write-model",
  response: { status: number; body: unknown },
): Answer {
  if (response.status >= 400) return errorAnswer(response.body);
  const body = response.body as Record<string, unknown>;
  switch (endpoint) {
    case "check":
      return { text: `allowed ${body.allowed}` };
    case "batch-check": {
      const result = (body.result ?? {}) as Record<
        string,
        { allowed?: boolean; error?: { input_error?: string; internal_error?: string; message?: string } }
      >;
      const items = Object.keys(result)
        .sort()
        .map((id) => {
          const r = result[id];
          if (r?.error) return `${id}=error ${r.error.input_error ?? r.error.internal_error ?? "?"}`;
          return `${id}=${r?.allowed ?? false}`;
        });
      return { text: items.join(" "), items };
    }
    case "list-objects": {
      const items = [...((body.objects ?? []) as string[])].sort();
      return { text: `[${items.join(" ")}]`, items };
    }
    case "list-users": {
      const users = (body.users ?? []) as {
        object?: { type: string; id: string };
        wildcard?: { type: string };
        userset?: { type: string; id: string; relation: string };
      }[];
      const items = users
        .map((u) =>
          u.object
            ? `${u.object.type}:${u.object.id}`
            : u.wildcard
              ? `${u.wildcard.type}:*`
              : `${u.userset?.type}:${u.userset?.id}#${u.userset?.relation}`,
        )
        .sort();
      return { text: `[${items.join(" ")}]`, items };
    }
    default:
      return { text: `ok ${response.status}` };
  }
}

const path = (store: string, endpoint: string) => `/stores/${store}/${endpoint}`;
const isTypedWildcardUser = (user: string) => user.endsWith(":*");

/** The same question as one listed or missing item, asked to the real server's check endpoint. */
function checkFor(query: Query, item: string): Record<string, unknown> {
  const body = query.body;
  if (query.endpoint === "list-objects") {
    return {
      tuple_key: { user: body.user, relation: body.relation, object: item },
      ...(body.contextual_tuples ? { contextual_tuples: body.contextual_tuples } : {}),
      ...(body.context ? { context: body.context } : {}),
    };
  }
  const object = body.object as { type: string; id: string };
  return {
    tuple_key: { user: item, relation: body.relation, object: `${object.type}:${object.id}` },
    ...(body.contextual_tuples ? { contextual_tuples: { tuple_keys: body.contextual_tuples } } : {}),
    ...(body.context ? { context: body.context } : {}),
  };
}

/**
 * Decides whom a difference is on. The real server contradicts itself when asking it the same request
 * again gives another answer, or when its own check agrees with the double on every item in which its
 * list answer and the double's differ (a batch-check item: its own check agrees with the double).
 */
async function judge(
  query: Query,
  real: Answer,
  double: Answer,
  ask: (endpoint: string, body: unknown) => Promise<{ status: number; body: unknown }>,
): Promise<{ verdict: Difference["verdict"]; note?: string }> {
  if (query.endpoint === "write") return { verdict: "double" };
  // Where the server resolves a cycle by whichever branch answers first, the same request can get
  // another answer: ask it again a few times.
  // Sequentially, then in bursts: concurrent copies of a request change how its branches interleave on
  // the server, which is what such answers depend on.
  const again = async (endpoint: string, body: unknown, first: string, times: number) => {
    const answerOf = async () => normalize(endpoint as Query["endpoint"], await ask(endpoint, body)).text;
    for (let i = 0; i < times; i++) {
      const answer = await answerOf();
      if (answer !== first) return answer;
    }
    for (let burst = 0; burst < 2; burst++) {
      const answers = await Promise.all(Array.from({ length: 8 }, answerOf));
      const other = answers.find((a) => a !== first);
      if (other !== undefined) return other;
    }
    return undefined;
  };
  const other = await again(query.endpoint, query.body, real.text, 5);
  if (other !== undefined) return { verdict: "server-nondeterministic", note: `asked again: ${other}` };
  if ((query.endpoint === "list-objects" || query.endpoint === "list-users") && real.items && double.items) {
    const realSet = new Set(real.items);
    const doubleSet = new Set(double.items);
    const differing = [...new Set([...real.items, ...double.items])].filter(
      (i) => realSet.has(i) !== doubleSet.has(i),
    );
    const notes: string[] = [];
    for (const item of differing) {
      const check = normalize("check", await ask("check", checkFor(query, item)));
      notes.push(`check ${item}: ${check.text}`);
      const checkAgain = await again("check", checkFor(query, item), check.text, 3);
      if (checkAgain !== undefined) {
        return { verdict: "server-nondeterministic", note: `${notes.join("; ")}, then ${checkAgain}` };
      }
      if (check.text !== `allowed ${doubleSet.has(item)}`)
        return { verdict: "double", note: notes.join("; ") };
    }
    return { verdict: "server-contradiction", note: notes.join("; ") };
  }
  if (query.endpoint === "batch-check" && real.items && double.items) {
    const checks = (query.body.checks ?? []) as ({ correlation_id: string } & Record<string, unknown>)[];
    const notes: string[] = [];
    for (const [i, item] of real.items.entries()) {
      if (item === double.items[i]) continue;
      const id = item.slice(0, item.indexOf("="));
      const { correlation_id: _, ...check } = checks.find((c) => c.correlation_id === id) ?? {
        correlation_id: id,
      };
      const answer = normalize("check", await ask("check", check));
      const asCheck = double.items[i]?.slice(id.length + 1).replace(/^(true|false)$/, "allowed $1");
      notes.push(`check ${id}: ${answer.text}`);
      const checkAgain = await again("check", check, answer.text, 3);
      if (checkAgain !== undefined) {
        return { verdict: "server-nondeterministic", note: `${notes.join("; ")}, then ${checkAgain}` };
      }
      if (answer.text !== asCheck) return { verdict: "double", note: notes.join("; ") };
    }
    return { verdict: "server-contradiction", note: notes.join("; ") };
  }
  return { verdict: "double" };
}

/** Runs `requests` with at most `limit` in flight, keeping their order. */
async function inParallel<T>(limit: number, requests: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const i = next++;
      results[i] = await (requests[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, requests.length) }, worker));
  return results;
}

/** Runs one seed's scenario against both APIs and returns what differed. */
export async function runSeed(
  seed: number,
  real: FgaApi,
  double: FgaApi,
  options: {
    concurrency?: number;
    scenario?: Scenario;
    /**
     * The double resolving every check with the server's default strategy: where the real server's answer
     * matches it, the server's planner picked that strategy (which it does now and then, more often under
     * load), and the answer depends on the planner, not on the double.
     */
    defaultStrategy?: FgaApi;
    /**
     * The double settling intersections and exclusions with a branch's cycle ahead of another branch's plain
     * denial: the server races those branches, and where its answer matches this one, the answer depends on
     * which finished first on the server (both orders occur; the double answers with the usual one).
     */
    cycleFirst?: FgaApi;
  } = {},
): Promise<SeedResult> {
  const scenario = options.scenario ?? generateScenario(seed);
  const result: SeedResult = {
    seed,
    comparisons: 0,
    differences: [],
    messageDifferences: [],
    contradictions: [],
  };
  const stores = await Promise.all(
    [real, double].map(async (api) => {
      const created = await api("POST", "/stores", { name: `differential-${seed}` });
      if (created.status !== 201)
        throw new Error(`could not create a store: ${JSON.stringify(created.body)}`);
      return (created.body as { id: string }).id;
    }),
  );
  const [realStore, doubleStore] = stores as [string, string];
  const record = (endpoint: string, tags: string[], request: unknown, r: Answer, d: Answer) => {
    result.comparisons++;
    if (r.text !== d.text) {
      result.differences.push({
        seed,
        endpoint,
        tags,
        request,
        real: r.text,
        double: d.text,
        verdict: "double",
      });
      return false;
    }
    if ((r.message ?? "") !== (d.message ?? ""))
      result.messageDifferences.push({ endpoint, real: r.message ?? "", double: d.message ?? "" });
    return true;
  };
  try {
    // Invalid models first: each must be refused the same way, and none may become the latest model.
    for (const variant of scenario.invalidModels) {
      const [r, d] = await Promise.all([
        real("POST", path(realStore, "authorization-models"), variant.body),
        double("POST", path(doubleStore, "authorization-models"), variant.body),
      ]);
      record(
        "write-model",
        [`invalid-model:${variant.kind}`],
        variant.body,
        normalize("write-model", r),
        normalize("write-model", d),
      );
      if (r.status < 300 || d.status < 300) {
        // One side took it as its latest model; the rest of the seed would compare different models.
        return result;
      }
    }
    const written = await Promise.all([
      real("POST", path(realStore, "authorization-models"), scenario.model),
      double("POST", path(doubleStore, "authorization-models"), scenario.model),
    ]);
    const [rm, dm] = written.map((w) => normalize("write-model", w)) as [Answer, Answer];
    if (!record("write-model", ["model"], scenario.model, rm, dm) || (written[0]?.status ?? 500) >= 300)
      return result;
    const [realModel, doubleModel] = written.map(
      (w) => (w.body as { authorization_model_id: string }).authorization_model_id,
    );
    for (let i = 0; i < scenario.tuples.length; i += 100) {
      const chunk = scenario.tuples.slice(i, i + 100);
      const [r, d] = await Promise.all([
        real("POST", path(realStore, "write"), {
          writes: { tuple_keys: chunk },
          authorization_model_id: realModel,
        }),
        double("POST", path(doubleStore, "write"), {
          writes: { tuple_keys: chunk },
          authorization_model_id: doubleModel,
        }),
      ]);
      if (
        !record("write", ["tuples"], chunk, normalize("write", r), normalize("write", d)) ||
        r.status >= 300
      )
        return result;
    }
    const ask = (api: FgaApi, store: string, model: string) => (endpoint: string, body: unknown) =>
      api("POST", path(store, endpoint), { ...(body as object), authorization_model_id: model });
    const askReal = ask(real, realStore, realModel as string);
    const askDouble = ask(double, doubleStore, doubleModel as string);
    const answers = await inParallel(
      options.concurrency ?? 8,
      scenario.queries.map((query) => async () => {
        const [r, d] = await Promise.all([
          askReal(query.endpoint, query.body),
          askDouble(query.endpoint, query.body),
        ]);
        return { query, real: normalize(query.endpoint, r), double: normalize(query.endpoint, d) };
      }),
    );
    // The same store on another double: one that answers as the server does when its planner or a race
    // between branches goes the other way. Built on first use.
    const variants = new Map<
      FgaApi,
      Promise<(endpoint: string, body: unknown) => Promise<{ status: number; body: unknown }>>
    >();
    const onVariant = (api: FgaApi, name: string) => {
      let asking = variants.get(api);
      if (!asking) {
        asking = (async () => {
          const store = ((await api("POST", "/stores", { name: `${name}-${seed}` })).body as { id: string })
            .id;
          const model = (
            (await api("POST", path(store, "authorization-models"), scenario.model)).body as {
              authorization_model_id: string;
            }
          ).authorization_model_id;
          if (scenario.tuples.length > 0) {
            await api("POST", path(store, "write"), {
              writes: { tuple_keys: scenario.tuples },
              authorization_model_id: model,
            });
          }
          return ask(api, store, model);
        })();
        variants.set(api, asking);
      }
      return asking;
    };
    const explanations = [
      {
        api: options.defaultStrategy,
        name: "default",
        verdict: "server-planner" as const,
        note: "the double's answer with the server's default strategy matches the server's",
      },
      {
        api: options.cycleFirst,
        name: "cycle-first",
        verdict: "server-race" as const,
        note: "the double's answer with a branch's cycle settling first matches the server's (a race on the server)",
      },
    ];
    differing: for (const { query, real: r, double: d } of answers) {
      if (record(query.endpoint, query.tags, query.body, r, d)) continue;
      const difference = result.differences.at(-1) as Difference;
      if (query.endpoint !== "write") {
        for (const { api, name, verdict, note } of explanations) {
          if (!api) continue;
          const answer = normalize(
            query.endpoint,
            await (await onVariant(api, name))(query.endpoint, query.body),
          );
          if (answer.text === r.text) {
            difference.verdict = verdict;
            difference.note = note;
            continue differing;
          }
        }
      }
      const { verdict, note } = await judge(query, r, d, askReal);
      difference.verdict = verdict;
      if (note) difference.note = note;
    }
    // Is each listed object or user one the server's own check allows? The double's check answers first
    // (it agrees with the server's wherever the two were compared, and costs nothing); only where it says
    // no is the server's check asked.
    for (const { query, real: r } of answers) {
      if ((query.endpoint !== "list-objects" && query.endpoint !== "list-users") || !r.items) continue;
      for (const item of r.items) {
        if (isTypedWildcardUser(item)) continue;
        const body = checkFor(query, item);
        if (normalize("check", await askDouble("check", body)).text === "allowed true") continue;
        const check = normalize("check", await askReal("check", body));
        if (check.text !== "allowed true") {
          result.contradictions.push({
            seed,
            endpoint: query.endpoint,
            request: query.body,
            item,
            check: check.text,
          });
        }
      }
    }
    return result;
  } finally {
    await real("DELETE", `/stores/${realStore}`);
    await double("DELETE", `/stores/${doubleStore}`);
  }
}

/** The family of mismatches a difference belongs to (the issue's numbering), for the report. */
export function family(d: Difference): string {
  const has = (prefix: string) => d.tags.some((t) => t.startsWith(prefix));
  const conditionError = (answer: string) => answer.includes("validation_error");
  if (d.endpoint === "write-model") return "1 model validation";
  if (has("invalid-contextual") || has("invalid-write") || has("implicit-write") || has("unknown-"))
    return "4 invalid tuples and request validation";
  if (has("implicit-contextual")) return "3 implicit contextual tuples";
  if (conditionError(d.real) !== conditionError(d.double) || has("mistyped-context"))
    return "2 conditions and evaluation order";
  if (d.endpoint === "list-objects" && (has("userset-user") || has("wildcard-user")))
    return "5 list-objects with a userset or wildcard user";
  if (d.endpoint === "list-users" && (has("userset-filter") || /:\*/.test(d.real + d.double)))
    return "6 list-users: userset filters, wildcards";
  return `other: ${d.endpoint}`;
}

/** Counts by verdict and by family, for the report. */
export function summarize(results: SeedResult[]): string {
  const comparisons = results.reduce((n, r) => n + r.comparisons, 0);
  const all = results.flatMap((r) => r.differences);
  const contradicted = results.flatMap((r) => r.contradictions);
  const byVerdict = (v: Difference["verdict"]) => all.filter((d) => d.verdict === v);
  const families = new Map<string, number>();
  for (const d of byVerdict("double")) {
    const key = family(d);
    families.set(key, (families.get(key) ?? 0) + 1);
  }
  const seedsWith = (v: Difference["verdict"]) => [...new Set(byVerdict(v).map((d) => d.seed))];
  const lines = [
    `seeds ${results.length}, comparisons ${comparisons}, mismatches ${byVerdict("double").length} (seeds ${seedsWith("double").length})`,
    `real server contradicts itself: ${byVerdict("server-contradiction").length} answers where the double agrees with its check (seeds ${seedsWith("server-contradiction").join(" ") || "none"})`,
    `real server lists what its own check denies: ${contradicted.length} listed items in ${new Set(contradicted.map((c) => `${c.seed} ${JSON.stringify(c.request)}`)).size} answers (seeds ${[...new Set(contradicted.map((c) => c.seed))].join(" ") || "none"})`,
    `real server answers the same request differently: ${byVerdict("server-nondeterministic").length} answers (seeds ${seedsWith("server-nondeterministic").join(" ") || "none"})`,
    `real server's answer depends on its planner (its default strategy instead of reading from the user's side): ${byVerdict("server-planner").length} answers (seeds ${seedsWith("server-planner").join(" ") || "none"})`,
    `real server's answer depends on a race between branches (a cycle found before another branch's denial): ${byVerdict("server-race").length} answers (seeds ${seedsWith("server-race").join(" ") || "none"})`,
    `error messages that differ where the codes agree: ${results.reduce((n, r) => n + r.messageDifferences.length, 0)}`,
    ...[...families].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${n}\t${k}`),
    ...contradicted.map(
      (c) =>
        `  seed ${c.seed} ${c.endpoint} lists ${c.item}, its check says ${c.check}: ${JSON.stringify(c.request)}`,
    ),
    ...all
      .filter((d) => d.verdict !== "double")
      .map(
        (d) => `  seed ${d.seed} ${d.endpoint} (${d.verdict}): ${d.note ?? ""}: ${JSON.stringify(d.request)}`,
      ),
  ];
  return lines.join("\n");
}
