// Prints every JUnit file's counts under a folder, then the run's closing line "N passed, N failed, N skipped".
import { closingLine, summarizeJUnitDir } from "./junit-summary.js";

const dir = process.argv[2] ?? "artifacts";
const { lines, total } = summarizeJUnitDir(dir);
for (const line of lines) console.log(line);
console.log(closingLine(total));
