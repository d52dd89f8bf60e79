import { expect, type Page } from "@playwright/test";

/**
 * Presses the widget's Extend button until the extension goes through. A demo is extended only once
 * the proxy has seen it opened (`extend_requires_visit`), which the worker's visits reader notes
 * within a second or two of the visit: until then the widget is told NOT_VISITED and asks the
 * visitor to open the demo. The outcome is read from the widget's own events.
 */
export async function extendOnceVisited(page: Page, name: string): Promise<void> {
  await expect
    .poll(
      async () => {
        await page.evaluate(() => {
          const holder = window as unknown as { __tinExtend?: Promise<string> };
          holder.__tinExtend = new Promise((resolve) => {
            document.addEventListener("tryitnow:extended", () => resolve("extended"), { once: true });
            document.addEventListener("tryitnow:error", (event) => resolve(String((event as CustomEvent).detail.code)), {
              once: true,
            });
          });
        });
        await page.getByRole("button", { name }).click();
        const outcome = await page.evaluate(() => (window as unknown as { __tinExtend: Promise<string> }).__tinExtend);
        if (outcome === "NOT_VISITED") await page.waitForTimeout(500);
        return outcome;
      },
      { timeout: 20_000 },
    )
    .toBe("extended");
}
