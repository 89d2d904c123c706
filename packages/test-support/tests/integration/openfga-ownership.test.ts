import { readFileSync } from "node:fs";
import { ClientWriteRequestOnDuplicateWrites, OpenFgaClient } from "@openfga/sdk";
import { transformer } from "@openfga/syntax-transformer";
import { describe, expect } from "vitest";
import { createIntegrationEnvironment, createStoreClient, openfga } from "../../src/index.js";
import { describeInModes, integrationTest } from "../../src/vitest/index.js";

// Cleanup touches only what this environment created: tuples its own writes created, in the store they
// were written to, and the scratch stores it made.
const model = new URL("../fixtures/authz.fga", import.meta.url);
const modelJson = () => transformer.transformDSLToJSONObject(readFileSync(model, "utf8")) as never;
const tuple = (user: string, relation: string, object: string) => ({ user, relation, object });
const ignoreDuplicates = { conflict: { onDuplicateWrites: ClientWriteRequestOnDuplicateWrites.Ignore } };
const test = integrationTest({ service: "test-support", dependencies: { authz: openfga({ model }) } });

async function scratchStore(client: OpenFgaClient, name: string) {
  const scratch = await createStoreClient(client, name);
  scratch.authorizationModelId = (await scratch.writeAuthorizationModel(modelJson())).authorization_model_id;
  return scratch;
}

const users = async (client: OpenFgaClient, object: string) =>
  (await client.read({ object })).tuples.map((t) => t.key.user).sort();

describe("openfga cleanup in every mode", () => {
  test("a tuple written in a scratch store is reset there and never touches the environment's store", async ({
    clients,
    environment,
  }) => {
    const fga = clients.authz;
    const scratch = await scratchStore(fga, "ownership-scratch");
    await fga.writeTuples([tuple("user:kept", "owner", "document:o")]);
    await scratch.writeTuples([tuple("user:scratch", "owner", "document:o")]);
    // The test removes its own tuple again; the environment must not try to delete it twice.
    await fga.deleteTuples([tuple("user:kept", "owner", "document:o")]);
    await fga.writeTuples([tuple("user:again", "owner", "document:o")]);
    await environment.reset();
    expect(await users(fga, "document:o")).toEqual([]);
    expect(await users(scratch, "document:o")).toEqual([]);
    await scratch.deleteStore();
  });

  test("a tuple written again with onDuplicateWrites ignore is still the environment's when it created it", async ({
    clients,
    environment,
  }) => {
    const fga = clients.authz;
    await fga.writeTuples([tuple("user:twice", "owner", "document:d")]);
    await fga.writeTuples([tuple("user:twice", "owner", "document:d")], ignoreDuplicates);
    await environment.reset();
    expect(await users(fga, "document:d")).toEqual([]);
  });

  test("scratch stores are removed on close", async () => {
    const environment = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { authz: openfga({ model }) },
    });
    const scratch = await scratchStore(environment.clients.authz, "ownership-close");
    const removedByTest = await scratchStore(environment.clients.authz, "ownership-removed");
    await removedByTest.deleteStore();
    await environment.close();
    await expect(scratch.getStore()).rejects.toMatchObject({ statusCode: 404 });
  });
});

describeInModes(["cluster"], "openfga cleanup with a shared store (FGA_STORE_ID)", () => {
  test("deletes only the tuples its own writes created, in the store they were written to", async () => {
    const url = process.env.FGA_API_URL;
    if (!url) throw new Error("FGA_API_URL is not set; the cluster lane sets it.");
    // Another writer of the shared store: what it wrote is not the environment's to delete.
    const outsider = new OpenFgaClient({ apiUrl: url, credentials: undefined });
    const { id: shared } = await outsider.createStore({ name: "ownership-shared" });
    outsider.storeId = shared;
    try {
      outsider.authorizationModelId = (
        await outsider.writeAuthorizationModel(modelJson())
      ).authorization_model_id;
      await outsider.writeTuples([
        tuple("user:theirs", "owner", "document:s"),
        tuple("user:both", "owner", "document:s"),
      ]);
      const environment = await createIntegrationEnvironment({
        service: "test-support",
        dependencies: { authz: openfga({ model }) },
        env: { ...process.env, FGA_STORE_ID: shared },
      });
      const fga = environment.clients.authz;
      const scratch = await scratchStore(fga, "ownership-shared-scratch");
      // Written only in the scratch store: the shared store's copy is someone else's.
      await scratch.writeTuples([tuple("user:theirs", "owner", "document:s")]);
      // Already there: the write succeeds but creates nothing.
      await fga.writeTuples([tuple("user:both", "owner", "document:s")], ignoreDuplicates);
      await fga.writeTuples([tuple("user:mine", "owner", "document:s")]);
      await environment.reset();
      expect(await users(outsider, "document:s")).toEqual(["user:both", "user:theirs"]);
      expect(await users(scratch, "document:s")).toEqual([]);
      await fga.writeTuples([tuple("user:both", "owner", "document:s")], ignoreDuplicates);
      await fga.writeTuples([tuple("user:mine", "owner", "document:s")]);
      await environment.close();
      expect(await users(outsider, "document:s")).toEqual(["user:both", "user:theirs"]);
      await expect(scratch.getStore()).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      await outsider.deleteStore();
    }
  });

  test("a store id that does not exist is refused with the variable and the fix", async () => {
    const error = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { authz: openfga({ model }) },
      env: { ...process.env, FGA_STORE_ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV" },
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain("has no store 01ARZ3NDEKTSV4RRFFQ69G5FAV (from FGA_STORE_ID)");
    expect(error?.message).toContain("Unset FGA_STORE_ID");
  });
});
