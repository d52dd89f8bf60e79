/** Parses durations such as `90s`, `10m`, `1h`, `500ms` or a bare number of seconds into milliseconds. */
export function parseDurationMs(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!match) throw new Error(`invalid duration "${value}" (use e.g. 90s, 10m, 1h)`);
  const amount = Number(match[1]);
  const unit = (match[2] ?? "s").toLowerCase();
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1000;
  return Math.round(amount * factor);
}
