import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** The folders whose comments cite ARCHITECTURE.md (its "Folders" table). */
const ROOTS = ["lib", "app", "components", "embed", "worker", "scripts", "bench", "tests", "e2e", "deploy", "server.ts"];
const SOURCE = /\.(ts|tsx|mjs|sh|service)$/;

function sources(path: string): string[] {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return [];
  if (!stat.isDirectory()) return SOURCE.test(path) ? [path] : [];
  return readdirSync(path).flatMap((entry) => (entry === "node_modules" ? [] : sources(join(path, entry))));
}

/** Its sections (`## …`, `### …`) and the named entries of its lists (`- **…**`). */
function sectionsOf(text: string): Set<string> {
  const headings = [...text.matchAll(/^#{2,4} (.+)$/gm)].map((match) => match[1].trim());
  const entries = [...text.matchAll(/^- \*\*([^*]+?)\.?\*\*/gm)].map((match) => match[1].trim());
  return new Set([...headings, ...entries]);
}

describe("ARCHITECTURE.md", () => {
  it("has every section a comment of the code cites by name", () => {
    const sections = sectionsOf(readFileSync("ARCHITECTURE.md", "utf8"));
    const missing: string[] = [];
    let cited = 0;
    for (const file of ROOTS.flatMap(sources)) {
      if (file === "lib/architecture.test.ts") continue;
      for (const match of readFileSync(file, "utf8").matchAll(/ARCHITECTURE\.md[,:]?\s?\(?"([^"]{1,80})"/g)) {
        // A name may wrap onto the comment's next line.
        const name = match[1].replace(/\s*\n\s*(\*|\/\/|#)?\s*/g, " ");
        cited += 1;
        if (!sections.has(name)) missing.push(`${file}: "${name}"`);
      }
    }
    expect(cited).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });
});

describe("the time of day", () => {
  it('is read through ctx.clock in lib/ (ARCHITECTURE.md, "Testing"): Date.now() only in the clock and the supervisor', () => {
    const allowed = new Set(["lib/clock.ts", "lib/supervise/supervisor.ts"]);
    const callers = sources("lib")
      .filter((file) => !file.endsWith(".test.ts") && !allowed.has(file))
      .filter((file) => /Date\.now\(\)/.test(readFileSync(file, "utf8")));
    expect(callers).toEqual([]);
    // The check would see a call: the clock itself makes one.
    expect(readFileSync("lib/clock.ts", "utf8")).toMatch(/Date\.now\(\)/);
  });
});
