import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { closingLine, countJUnit, junitSeconds, notRunInMode, summarizeJUnitDir } from "./junit-summary.js";

const vitestShape = `<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="4" failures="1" errors="0" time="0.1">
  <testsuite name="a.test.ts" tests="4" failures="1" errors="0" skipped="1">
    <testcase classname="a.test.ts" name="passes" time="0.01"></testcase>
    <testcase classname="a.test.ts" name="also passes" time="0.01"/>
    <testcase classname="a.test.ts" name="fails" time="0.01"><failure message="boom">stack</failure></testcase>
    <testcase classname="a.test.ts" name="skipped" time="0"><skipped/></testcase>
  </testsuite>
</testsuites>`;

const nodeShape = `<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="outer" time="0.1" tests="3" failures="1" skipped="0" hostname="h">
    <testcase name="one" time="0.01" classname="test"/>
    <testsuite name="inner" time="0.1" tests="2" failures="1" skipped="0" hostname="h">
      <testcase name="two" time="0.01" classname="test"/>
      <testcase name="three" time="0.01" classname="test"><error message="x" type="testCodeFailure">e</error></testcase>
    </testsuite>
  </testsuite>
</testsuites>`;

describe("countJUnit", () => {
  it("counts Vitest's flat suites", () => {
    expect(countJUnit(vitestShape)).toEqual({ passed: 2, failed: 1, skipped: 1 });
  });

  it("counts node:test's nested suites and errors", () => {
    expect(countJUnit(nodeShape)).toEqual({ passed: 2, failed: 1, skipped: 0 });
  });

  it("counts an empty report as nothing", () => {
    expect(countJUnit("<testsuites></testsuites>")).toEqual({ passed: 0, failed: 0, skipped: 0 });
  });
});

describe("summarizeJUnitDir", () => {
  it("sums every junit-*.xml below a folder and ignores other files", () => {
    const dir = mkdtempSync(join(tmpdir(), "junit-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, "svc-a"));
    mkdirSync(join(dir, "svc-b"));
    writeFileSync(join(dir, "svc-a", "junit-repo.xml"), vitestShape);
    writeFileSync(join(dir, "svc-b", "junit-node-repo.xml"), nodeShape);
    writeFileSync(join(dir, "svc-b", "events.jsonl"), "{}\n");
    const { lines, total } = summarizeJUnitDir(dir);
    expect(total).toEqual({ passed: 4, failed: 2, skipped: 1 });
    expect(lines).toHaveLength(2);
    expect(closingLine(total)).toBe("4 passed, 2 failed, 1 skipped");
  });

  it("counts every shard's JUnit, as CI's closing line must", () => {
    const dir = mkdtempSync(join(tmpdir(), "junit-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, "svc-a"));
    writeFileSync(join(dir, "svc-a", "junit-shard-1-of-2-repo.xml"), vitestShape);
    writeFileSync(join(dir, "svc-a", "junit-shard-2-of-2-repo.xml"), vitestShape);
    writeFileSync(join(dir, "svc-a", "junit-node-shard-2-of-2-repo.xml"), nodeShape);
    const single = summarizeJUnitDir(dir).total;
    const one = countJUnit(vitestShape);
    const node = countJUnit(nodeShape);
    expect(single).toEqual({
      passed: 2 * one.passed + node.passed,
      failed: 2 * one.failed + node.failed,
      skipped: 2 * one.skipped + node.skipped,
    });
  });
});

describe("notRunInMode", () => {
  it("names the skipped tests that say which mode they need, and no other skips", () => {
    const xml = `<testsuites><testsuite name="d.test.ts">
      <testcase classname="d.test.ts" name="Differential [not run in repo mode: needs cluster] &gt; seed 1"><skipped/></testcase>
      <testcase classname="d.test.ts" name="plain skip"><skipped/></testcase>
      <testcase classname="d.test.ts" name="ran"/>
    </testsuite></testsuites>`;
    expect(notRunInMode(xml)).toEqual(["Differential [not run in repo mode: needs cluster] > seed 1"]);
  });
});

it("reads the time the suites took", () => {
  expect(junitSeconds(vitestShape)).toBe(0.1);
  expect(junitSeconds("<testsuites></testsuites>")).toBe(0);
});
