/** The visitor's texts; a page may replace any of them with `data-locale='{"try":"…"}'`. */
export const TEXTS = {
  try: "Try it now",
  starting: "Starting your demo…",
  checking: "Checking your browser…",
  checkFailed: "The browser check did not pass. Please reload the page and try again.",
  denied: "Demos cannot be started from your network.",
  running: "Your demo is running",
  left: "left",
  open: "Open demo",
  extend: "Add {n} minutes",
  end: "End demo",
  endAsk: "End your demo now? It cannot be brought back.",
  endYes: "End it",
  endNo: "Keep it",
  close: "Close",
  ended: "Your demo has ended.",
  again: "Start another",
  retry: "Try again",
  busy: "All demos are busy — trying again in {n} s",
  busyEnd: "All demos are busy right now. Please try again in a few minutes.",
  limited: "You have reached the demo limit; try again in {t}.",
  paused: "This demo is paused right now. Please try again later.",
  missing: "This demo is not available.",
  refused: "This demo could not be started from this page.",
  failed: "Something went wrong. Please try again.",
  noMoreExt: "No extensions left",
  openFirst: "Open the demo first, then you can add time.",
  longest: "Longest time reached",
  minutesLeft: "{n} minutes left",
  minuteLeft: "1 minute left",
  blocked: "Your browser blocked the new tab: use Open demo.",
};
export type Texts = typeof TEXTS;

export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ""));
}
