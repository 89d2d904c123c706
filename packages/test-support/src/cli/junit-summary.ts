import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { XMLParser } from "fast-xml-parser";

/** Counts of one JUnit file or of a whole run. */
export interface JUnitCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** The seconds a JUnit document says its suites took (the testsuites element's time). */
export function junitSeconds(xml: string): number {
  const match = /<testsuites\b[^>]*\btime="([\d.]+)"/.exec(xml);
  return match ? Number(match[1]) : 0;
}

type XmlNode = Record<string, unknown>;
const asArray = (value: unknown): XmlNode[] =>
  value === undefined
    ? []
    : ((Array.isArray(value) ? value : [value]).filter((v) => typeof v === "object") as XmlNode[]);

function countCases(node: XmlNode, counts: JUnitCounts): void {
  for (const testcase of asArray(node.testcase)) {
    if (testcase.failure !== undefined || testcase.error !== undefined) counts.failed++;
    else if (testcase.skipped !== undefined) counts.skipped++;
    else counts.passed++;
  }
  for (const suite of asArray(node.testsuite)) countCases(suite, counts);
}

/** The names of skipped test cases that say why they did not run ("[not run in repo mode: needs cluster]"). */
export function notRunInMode(xml: string): string[] {
  const parser = new XMLParser({ ignoreAttributes: false, allowBooleanAttributes: true });
  const names: string[] = [];
  const walk = (node: XmlNode) => {
    for (const testcase of asArray(node.testcase)) {
      const name = String(testcase["@_name"] ?? "");
      const suite = String(testcase["@_classname"] ?? "");
      if (testcase.skipped !== undefined && /\[not run in \w+ mode/.test(`${suite} ${name}`))
        names.push(name);
    }
    for (const suite of asArray(node.testsuite)) walk(suite);
  };
  const document = parser.parse(xml) as XmlNode;
  walk((document.testsuites as XmlNode | undefined) ?? document);
  return names;
}

/** Counts the test cases of one JUnit XML document (Vitest's and node:test's shapes, nested suites included). */
export function countJUnit(xml: string): JUnitCounts {
  const parser = new XMLParser({ ignoreAttributes: false, allowBooleanAttributes: true });
  const document = parser.parse(xml) as XmlNode;
  const counts: JUnitCounts = { passed: 0, failed: 0, skipped: 0 };
  const root = (document.testsuites as XmlNode | undefined) ?? document;
  if (typeof root === "object" && root !== null) countCases(root, counts);
  return counts;
}

/** Every junit-*.xml below `dir`, in name order. */
export function findJUnitFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    for (const name of readdirSync(current).sort()) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/^junit-.*\.xml$/.test(name)) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/** The closing line CI reads: "N passed, N failed, N skipped". */
export function closingLine(counts: JUnitCounts): string {
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}

/** Sums the JUnit files below `dir`, one line per file, then the closing line. */
export function summarizeJUnitDir(dir: string): { lines: string[]; total: JUnitCounts } {
  const total: JUnitCounts = { passed: 0, failed: 0, skipped: 0 };
  const lines: string[] = [];
  for (const file of findJUnitFiles(dir)) {
    const counts = countJUnit(readFileSync(file, "utf8"));
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    lines.push(`  ${relative(dir, file)}: ${closingLine(counts)}`);
  }
  return { lines, total };
}
