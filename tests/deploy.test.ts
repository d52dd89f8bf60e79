/**
 * The production units (deploy/systemd/, docs/production.md, "The units") as systemd reads them:
 * `systemd-analyze verify` runs without a running systemd, and any complaint — an unknown key, a
 * command that is not there — fails the test. The hardening docs/production.md promises is checked by name.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const UNITS = "deploy/systemd";

/** A unit's [Service] settings, later lines winning, as systemd reads single-valued keys. */
function settings(file: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of readFileSync(join(UNITS, file), "utf8").split("\n")) {
    const match = line.match(/^([A-Za-z]+)=(.*)$/);
    if (match) map.set(match[1], match[2]);
  }
  return map;
}

describe("deploy/systemd", () => {
  it("every unit passes systemd-analyze verify without a complaint", (context) => {
    if (spawnSync("systemd-analyze", ["--version"]).status !== 0) {
      console.warn("skipped: systemd-analyze is not installed");
      context.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), "tin-units-"));
    try {
      const names: string[] = [];
      for (const file of readdirSync(UNITS).filter((name) => /\.(service|target)$/.test(name))) {
        // A template is verified as one of its instances.
        const name = file.replace("@.service", "@1.service");
        copyFileSync(join(UNITS, file), join(dir, name));
        names.push(join(dir, name));
      }
      expect(names.length).toBe(5);
      const result = spawnSync("systemd-analyze", ["verify", ...names], { encoding: "utf8" });
      expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the web gets no Docker socket and no capability; the worker the docker group and CAP_NET_ADMIN only", () => {
    const web = settings("tryitnow-web@.service");
    expect(web.get("InaccessiblePaths")).toContain("/var/run/docker.sock");
    expect(web.has("SupplementaryGroups")).toBe(false);
    expect(web.get("CapabilityBoundingSet")).toBe("");
    expect(web.get("Environment")).toContain("WEB_INDEX=%i");
    const worker = settings("tryitnow-worker.service");
    expect(worker.get("SupplementaryGroups")).toBe("docker");
    expect(worker.get("CapabilityBoundingSet")).toBe("CAP_NET_ADMIN");
    expect(worker.get("RestrictAddressFamilies")).toContain("AF_NETLINK");
    for (const unit of [web, worker]) {
      expect(unit.get("Restart")).toBe("always");
      expect(unit.get("NoNewPrivileges")).toBe("yes");
      expect(unit.get("ProtectSystem")).toBe("strict");
      expect(unit.get("User")).toBe("tryitnow");
    }
  });
});
