/** The one printed table: markdown columns, figures rounded for reading. */
import { describeGoal, goalHolds, goalOf } from "./goals.ts";
import type { Measurement } from "./types.ts";

export function formatFigure(value: number | null, unit: string): string {
  if (value == null || !Number.isFinite(value)) return "n/a";
  if (unit === "ms") return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
  if (unit === "MiB") return value.toFixed(1);
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

const DATABASE_ORDER = ["PGlite", "PostgreSQL", "-"];

/** Rows in the order their ids first appeared, the databases side by side. */
export function orderRows(rows: Measurement[]): Measurement[] {
  const first = new Map<string, number>();
  rows.forEach((row, index) => {
    if (!first.has(row.id)) first.set(row.id, index);
  });
  return [...rows].sort((a, b) =>
    first.get(a.id)! - first.get(b.id)! || DATABASE_ORDER.indexOf(a.database) - DATABASE_ORDER.indexOf(b.database));
}

export function formatTable(rows: Measurement[]): string {
  const header = ["Row", "Database", "Figure", "Unit", "Target", "Holds", "How measured"];
  const body = orderRows(rows).map((row) => {
    const goal = goalOf(row);
    const holds = goal == null ? null : goalHolds(goal, row.value);
    return [
      row.row,
      row.database,
      formatFigure(row.value, row.unit),
      row.unit,
      goal == null ? "" : describeGoal(goal),
      goal == null ? "" : holds == null ? "n/a" : holds ? "holds" : "misses",
      row.how,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => column === 2 ? cell.padStart(widths[column]) : cell.padEnd(widths[column])).join(" | ")} |`;
  const rule = `|${widths.map((width, column) => column === 2 ? `${"-".repeat(width + 1)}:` : "-".repeat(width + 2)).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}
