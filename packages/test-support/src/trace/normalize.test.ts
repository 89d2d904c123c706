import { describe, expect, it } from "vitest";
import { Normalizer } from "./normalize.js";

describe("Normalizer", () => {
  it("maps the same id to the same placeholder within a test, and different ids apart", () => {
    const n = new Normalizer();
    const a = "0b7e9c1e-5a55-4c5e-9f64-1d0f4a3b2c11";
    const b = "7f3d2a10-1111-4e22-8a33-445566778899";
    expect(n.value({ id: a, owner: b, again: a })).toEqual({
      again: "<uuid:1>",
      id: "<uuid:1>",
      owner: "<uuid:2>",
    });
  });

  it("numbers placeholders by first appearance, so two runs with other ids agree", () => {
    const run = (ids: string[]) => {
      const n = new Normalizer();
      return ids.map((id) => n.text(`tenant:${id}`));
    };
    expect(run(["aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"])).toEqual(
      run(["cccccccc-cccc-4ccc-8ccc-cccccccccccc", "dddddddd-dddd-4ddd-8ddd-dddddddddddd"]),
    );
  });

  it("reduces ULIDs, random hex suffixes, timestamps and epoch milliseconds to their type", () => {
    const n = new Normalizer();
    expect(n.text("onboarding-01jd6x2k3m4n5p6q7r8s9t0v1w")).toBe("onboarding-<ulid:1>");
    expect(n.text("acme-1a2b3c4d")).toBe("acme-<hex:1>");
    expect(n.text("acme-12345678")).toBe("acme-<hex:2>");
    expect(n.text("at 2025-01-01T10:00:00.123Z")).toBe("at <timestamp>");
    expect(n.value(new Date())).toBe("<timestamp>");
    expect(n.value(1764670000000)).toBe("<epoch-ms>");
    expect(n.value(42)).toBe(42);
    expect(n.text("plain words stay")).toBe("plain words stay");
  });

  it("sorts keys, drops transport details and masks secrets", () => {
    const n = new Normalizer();
    expect(n.value({ b: 1, a: 2, $response: { headers: {} }, password: "hunter2", token: "" })).toEqual({
      a: 2,
      b: 1,
      password: "<redacted>",
      token: "",
    });
  });

  it("reduces an error to its kind and codes", () => {
    const error = Object.assign(new Error("duplicate key value violates unique constraint"), {
      code: "23505",
    });
    expect(new Normalizer().error(error)).toEqual({ error: "Error", code: "23505" });
  });
});
