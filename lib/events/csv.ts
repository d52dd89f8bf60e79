import type { InstanceSessionRow } from "../db/schema";
import type { Funnel } from "./funnel";

/** One CSV field: quoted when it holds a comma, quote or line break; a leading =+-@ is neutralised (formula injection). */
function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const lines = (rows: (string | number | null | undefined)[][]) =>
  `${rows.map((row) => row.map(field).join(",")).join("\r\n")}\r\n`;

/** The funnel as CSV: each step's count, its conversion from the step before and the drop-off. */
export function funnelCsv(data: Funnel): string {
  const rows: (string | number | null)[][] = [["step", "count", "conversion_from_previous", "drop_off"]];
  data.steps.forEach((step, index) => {
    const previous = index ? data.steps[index - 1].count : null;
    const conversion = previous ? (step.count / previous).toFixed(4) : null;
    rows.push([step.name, step.count, conversion, previous === null ? null : Math.max(0, previous - step.count)]);
  });
  for (const [reason, count] of Object.entries(data.rejected)) rows.push([`rejected:${reason}`, count, null, null]);
  return lines(rows);
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Sessions as CSV, one row per instance a visitor held. */
export function sessionsCsv(rows: InstanceSessionRow[]): string {
  return lines([
    [
      "instance",
      "app",
      "assigned_at",
      "first_visit_at",
      "last_request_at",
      "requests",
      "extensions",
      "ended_at",
      "ended_how",
      "converted_at",
      "conversions",
    ],
    ...rows.map((row) => [
      row.instance,
      row.app,
      iso(row.assignedAt),
      iso(row.firstVisitAt),
      iso(row.lastRequestAt),
      row.requests,
      row.extensions,
      iso(row.endedAt),
      row.endedHow,
      iso(row.convertedAt),
      row.conversions,
    ]),
  ]);
}
