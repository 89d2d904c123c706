import { expect, it } from "vitest";
import { outputOf } from "./binaries.js";

it("gives all of a command's output, even what reaches the pipe after the command has exited", async () => {
  // The shell exits at once; a process it left behind writes the last line 200 ms later on the same pipe.
  // Waiting for "exit" (as ensureGoEngine once did) returns before that line, and the path was lost.
  const { code, out } = await outputOf(
    "bash",
    ["-c", "echo building; (sleep 0.2; echo /cache/bin/engine) & exit 0"],
    process.env,
  );
  expect(code).toBe(0);
  expect(out.trim().split("\n")).toEqual(["building", "/cache/bin/engine"]);
});

it("gives the exit code of a command that fails, with what it printed", async () => {
  const { code, out } = await outputOf("bash", ["-c", "echo half; exit 3"], process.env);
  expect(code).toBe(3);
  expect(out).toBe("half\n");
});

it("reports a command that cannot start as -1", async () => {
  const { code } = await outputOf("/nonexistent/ensure-script", [], process.env);
  expect(code).toBe(-1);
});
