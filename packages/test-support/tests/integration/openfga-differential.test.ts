import { OpenFgaClient, type TupleKey } from "@openfga/sdk";
import { expect } from "vitest";
import { createStoreClient, openfga } from "../../src/index.js";
import { createInMemoryAxios, IN_MEMORY_API_URL } from "../../src/openfga/memory/adapter.js";
import { InMemoryOpenFga } from "../../src/openfga/memory/server.js";
import { describeInModes, integrationTest } from "../../src/vitest/index.js";
import { DOCS, generateModel, generateTuples, RELATIONS, USERS } from "../openfga-random.js";

// Random models, tuples and queries, answered by the in-memory OpenFGA and by a real server, must agree.
// Only meaningful against a real server, so it runs in cluster mode and says so elsewhere.
const test = integrationTest({
  service: "test-support",
  dependencies: { authz: openfga({ model: new URL("../fixtures/authz.fga", import.meta.url) }) },
});

/** Every check, list-objects and list-users answer for one store, in a form that compares exactly. */
async function answers(client: OpenFgaClient) {
  const out: Record<string, unknown> = {};
  for (const relation of RELATIONS) {
    for (const object of DOCS) {
      for (const user of USERS) {
        try {
          out[`check ${user} ${relation} ${object}`] = (
            await client.check({ user, relation, object })
          ).allowed;
        } catch (error) {
          out[`check ${user} ${relation} ${object}`] =
            `error ${(error as { apiErrorCode?: string }).apiErrorCode}`;
        }
      }
      const users = await client.listUsers({
        object: { type: "doc", id: object.slice(4) },
        relation,
        user_filters: [{ type: "user" }],
      });
      out[`listUsers ${relation} ${object}`] = users.users
        .map((u) => (u.wildcard ? `${u.wildcard.type}:*` : `${u.object?.type}:${u.object?.id}`))
        .sort();
    }
    for (const user of USERS) {
      const listed = await client.listObjects({ user, relation, type: "doc" });
      out[`listObjects ${user} ${relation}`] = [...listed.objects].sort();
    }
  }
  return out;
}

/** Removes listed users whose check in the same answers is false; returns what it removed. */
function dropUnchecked(answers: Record<string, unknown>): string[] {
  const removed: string[] = [];
  for (const [key, value] of Object.entries(answers)) {
    const [kind, relation, object] = key.split(" ");
    if (kind !== "listUsers" || !Array.isArray(value)) continue;
    answers[key] = value.filter((user: string) => {
      const consistent = user.endsWith(":*") || answers[`check ${user} ${relation} ${object}`] === true;
      if (!consistent) removed.push(`${user} ${relation} ${object}`);
      return consistent;
    });
  }
  return removed;
}

async function load(client: OpenFgaClient, dsl: string, tuples: TupleKey[]) {
  const { transformer } = await import("@openfga/syntax-transformer");
  const { authorization_model_id } = await client.writeAuthorizationModel(
    transformer.transformDSLToJSONObject(dsl) as never,
  );
  if (tuples.length > 0) await client.writeTuples(tuples, { authorizationModelId: authorization_model_id });
  return authorization_model_id;
}

const SEEDS = Array.from({ length: Number(process.env.DIFF_SEEDS ?? 25) }, (_, i) => 1000 + i);

describeInModes(["cluster"], "OpenFGA differential: in-memory vs a real server", () => {
  test.for(SEEDS)("seed %i: same answers", { timeout: 60_000 }, async (seed, { clients }) => {
    const dsl = generateModel(seed);
    const tuples = generateTuples(seed, dsl);
    const real = await createStoreClient(clients.authz, `differential-${seed}`);
    const memoryAxios = createInMemoryAxios(new InMemoryOpenFga()) as never;
    const bootstrap = new OpenFgaClient({ apiUrl: IN_MEMORY_API_URL }, memoryAxios);
    const { id } = await bootstrap.createStore({ name: `differential-${seed}` });
    const memory = new OpenFgaClient({ apiUrl: IN_MEMORY_API_URL, storeId: id }, memoryAxios);
    try {
      const [realModel, memoryModel] = [await load(real, dsl, tuples), await load(memory, dsl, tuples)];
      real.authorizationModelId = realModel;
      memory.authorizationModelId = memoryModel;
      const [expected, actual] = [await answers(real), await answers(memory)];
      // OpenFGA's own rule: every listed user must pass a check. Where the real server lists a user its
      // own check denies, that is the server contradicting itself; say so and compare the consistent part.
      const contradictions = dropUnchecked(expected);
      if (contradictions.length > 0) {
        console.warn(
          `[differential] seed ${seed}: the real server lists users its own check denies: ${contradictions.join("; ")}`,
        );
      }
      expect(actual, `seed ${seed}\n${dsl}\n${JSON.stringify(tuples)}`).toEqual(expected);
    } finally {
      await real.deleteStore();
    }
  });
});
