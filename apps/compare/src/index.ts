/** The compare app's programmatic entry points (used by tests and report scripts). */
export { buildProgram, main } from "./cli.js";
export { compareJson, compareTable, estimateJson, estimateTable } from "./render.js";
export { type CompareRow, type RunOptions, runConfigs, type WorkloadName } from "./run.js";
export { renderCsv, renderMarkdown, renderText, type Table } from "./table.js";
