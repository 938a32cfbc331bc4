/**
 * `claims`: popular rules of thumb re-derived with the estimator and measurements (the model
 * package's `checkClaims`); this file only prints the results.
 */
import { checkClaims, modelTables } from "@tradeoffs/model";
import { Command, Option } from "commander";
import { emit } from "./options.js";

/** The `claims` subcommand. */
export function claimsCommand(): Command {
  return new Command("claims")
    .description("check popular rules of thumb against this project's estimator and measurements")
    .option("--no-measure", "skip the claims that need a measurement on this machine")
    .option("--json", "print one JSON object")
    .option("--markdown", "print the table as GitHub Markdown")
    .option("--csv", "print the table as CSV")
    .addOption(
      new Option("--table <name>", "print published-model figures instead (GPT-3, GPT-4, Llama-2)").choices([
        "models",
      ]),
    )
    .action((o) => {
      if (o.table === "models") {
        const tables = modelTables();
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ tables }, null, 2)}\n`);
          return;
        }
        emit(
          tables.map((t) => ({
            title: t.title,
            headers: t.headers,
            rows: t.rows,
            align: ["left", "left", "left", "left"] as const,
            notes: t.notes,
            csv: { name: t.name, headers: t.headers, rows: t.rows },
          })),
          o,
        );
        return;
      }
      const results = checkClaims({ measure: o.measure !== false });
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ claims: results }, null, 2)}\n`);
        return;
      }
      emit(
        {
          title: "Claims check: claim → verdict → the number we get → how it was computed",
          headers: ["#", "claim", "verdict", "what we get", "how"],
          rows: results.map((r) => [String(r.id), r.claim, r.verdict, r.value, r.how]),
          align: ["right", "left", "left", "left", "left"],
          csv: {
            name: "claims",
            headers: ["id", "claim", "verdict", "value", "how"],
            rows: results.map((r) => [r.id, r.claim, r.verdict, r.value, r.how]),
          },
        },
        o,
      );
    });
}
