import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, readDotEnv } from "./config";

describe("loadConfig", () => {
  it("has sensible defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 8080, PROXY_PORT: 8081, VALKEY_PREFIX: "tin:", POOL_DEFAULT_TTL: 1_800_000 });
  });

  it("parses durations and lists", () => {
    const config = loadConfig({ POOL_MAX_TTL: "90m", TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1" });
    expect(config.POOL_MAX_TTL).toBe(5_400_000);
    expect(config.TRUSTED_PROXIES).toEqual(["10.0.0.0/8", "127.0.0.1"]);
  });

  it("takes PUBLIC_URL as an origin and refuses anything else", () => {
    expect(loadConfig({}).PUBLIC_URL).toBe("http://localhost:8080");
    expect(loadConfig({ PUBLIC_URL: "https://Demo.Example.com/" }).PUBLIC_URL).toBe("https://demo.example.com");
    expect(loadConfig({ PUBLIC_URL: "http://127.0.0.1:3000" }).PUBLIC_URL).toBe("http://127.0.0.1:3000");
    for (const bad of [
      "demo.example.com",
      "ftp://x.example",
      "https://x.example/app",
      "https://x.example/?a=1",
      "https://u:p@x.example",
    ]) {
      expect(() => loadConfig({ PUBLIC_URL: bad }), bad).toThrow(/PUBLIC_URL/);
    }
  });

  it("refuses an API_KEY shorter than 24 characters and an ADMIN_PASSWORD shorter than 12, saying so", () => {
    expect(() => loadConfig({ API_KEY: "abc" })).toThrow(/API_KEY: at least 24 characters/);
    expect(() => loadConfig({ ADMIN_PASSWORD: "x" })).toThrow(/ADMIN_PASSWORD: at least 12 characters/);
    expect(loadConfig({ API_KEY: "k".repeat(24), ADMIN_PASSWORD: "p".repeat(12) }).API_KEY).toBe("k".repeat(24));
  });

  it("takes TLS on the proxy only when it is consistent: both files, https URLs, a plain-HTTP port for the containers", () => {
    const tls = {
      PROXY_TLS_CERT: "certs/site.pem",
      PROXY_TLS_KEY: "certs/site.key",
      PUBLIC_SCHEME: "https",
      PROXY_HTTP_PORT: "80",
      PROXY_PORT: "443",
    };
    const config = loadConfig({ ...tls, PUBLIC_URL: "https://demo.example.com" });
    expect(config.PROXY_TLS_CERT).toBe(resolve("certs/site.pem")); // Caddy reads it from its own working directory
    expect(config.PROXY_TLS_KEY).toBe(resolve("certs/site.key"));
    expect(() => loadConfig({ PROXY_TLS_CERT: "a.pem" })).toThrow(/PROXY_TLS_KEY: PROXY_TLS_CERT and PROXY_TLS_KEY go together/);
    expect(() => loadConfig({ PROXY_TLS_KEY: "a.key" })).toThrow(/PROXY_TLS_CERT: PROXY_TLS_CERT and PROXY_TLS_KEY go together/);
    expect(() => loadConfig({ ...tls, PUBLIC_SCHEME: "http" })).toThrow(/PUBLIC_SCHEME: the proxy serves TLS/);
    expect(() => loadConfig({ ...tls, PUBLIC_URL: "http://demo.example.com:443" })).toThrow(/PUBLIC_URL: it points at the proxy/);
    expect(() => loadConfig({ ...tls, PROXY_HTTP_PORT: "443" })).toThrow(/PROXY_HTTP_PORT: must differ/);
    expect(() => loadConfig({ ...tls, PROXY_HTTP_PORT: "0" })).toThrow(/PROXY_HTTP_PORT: with TLS the containers reach the API/);
    expect(loadConfig({ ...tls, PROXY_HTTP_PORT: "0", CONTAINER_API_URL: "http://10.0.0.5:8081" }).PROXY_HTTP_PORT).toBe(0);
  });

  it("names every bad variable", () => {
    expect(() => loadConfig({ PORT: "x", POOL_DEFAULT_TTL: "soon" })).toThrow(/PORT[\s\S]*POOL_DEFAULT_TTL/);
  });
});

describe(".env", () => {
  it("copied from .env.example gives exactly the defaults (comments after values are comments)", () => {
    const example = readDotEnv(".env.example");
    // Every variable the file names, and nothing else (no comment taken for a name).
    const named = [...readFileSync(".env.example", "utf8").matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect(Object.keys(example).sort()).toEqual(named.sort());
    expect(example.PORT).toBe("8080");
    expect(example.API_KEY).toBe("");
    expect(example.PUBLIC_URL).toBe("http://localhost:8080");
    expect(loadConfig(example)).toEqual(loadConfig({}));
  });

  it("copied from .env.example lets the set-up scripts start (scripts/env.ts reads it from the working directory)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tin-env-"));
    try {
      copyFileSync(".env.example", join(dir, ".env"));
      const result = spawnSync(resolve("node_modules/.bin/tsx"), [resolve("scripts/env.ts")], {
        cwd: dir,
        encoding: "utf8",
        timeout: 30_000,
        env: { PATH: process.env.PATH, NODE_ENV: "production" },
      });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).toContain("TIN_PORT='8080'");
      expect(result.stdout).toContain("TIN_PUBLIC_URL='http://localhost:8080'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000); // a tsx process of its own: seconds on a loaded 2-core machine

  it("is read for the process's own environment only, never for one a caller (a test) passes", () => {
    const dir = mkdtempSync(join(tmpdir(), "tin-env-"));
    const cwd = process.cwd();
    try {
      writeFileSync(join(dir, ".env"), "PORT=9000\nPUBLIC_URL=http://developer.example:9000\n");
      process.chdir(dir);
      expect(loadConfig({}).PORT).toBe(8080);
      expect(loadConfig({}).PUBLIC_URL).toBe("http://localhost:8080");
      expect(loadConfig().PORT).toBe(Number(process.env.PORT ?? 9000));
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps quoted values with # and lets the environment win", () => {
    const dir = mkdtempSync(join(tmpdir(), "tin-env-"));
    try {
      writeFileSync(join(dir, ".env"), 'ADMIN_PASSWORD="a#b c" # the comment\nPORT=9000\n');
      const values = readDotEnv(join(dir, ".env"));
      expect(values).toEqual({ ADMIN_PASSWORD: "a#b c", PORT: "9000" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
