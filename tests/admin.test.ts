import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { ACCOUNT_FREE_FAILURES, accountDelayMs, signIn } from "../lib/admin/sign-in";
import { updateAdminUser } from "../lib/admin/users/update";
import { AuditQuery, listAudit } from "../lib/audit/list";
import { cliCaller } from "../lib/audit/model";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import { findAdminUserByEmail } from "../lib/db/admin-users";
import { settings } from "../lib/db/schema";
import { derivedKey } from "../lib/secrets";
import { api } from "./helpers";
import { adminCli, TEST_ENV } from "./setup/stack";

const ctx = createContext(loadConfig({ ...process.env, ...TEST_ENV, LOG_LEVEL: "silent" }), "test-admin");
afterAll(() => ctx.close());

const attempt = (email: string, password: string, clientIp = "198.51.100.20") =>
  signIn(ctx, { email, password, clientIp }).then(
    (user) => ({ ok: true as const, user, code: undefined, message: "" }),
    (error: Error & { code?: string }) => ({ ok: false as const, code: error.code, message: error.message }),
  );

describe("the first admin", () => {
  it("a first start with no user makes admin@localhost with a random password, shown once and kept 0600", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tin-admin-")), "admin-password");
    const out = adminCli(["ensure", "--password-file", file]);
    const [email, password] = readFileSync(file, "utf8").trim().split("\n");
    expect(email).toBe("admin@localhost");
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(out).toContain(password);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await attempt(email, password)).ok).toBe(true);
    // A later start with users present changes nothing and shows no password.
    expect(adminCli(["ensure", "--password-file", file])).not.toContain(password);
  });

  it("ADMIN_EMAIL / ADMIN_PASSWORD: created once, and the password follows the variable only when it changes", async () => {
    const run = (password: string) => adminCli(["ensure"], { env: { ADMIN_EMAIL: "Ops@Example.com", ADMIN_PASSWORD: password } });
    expect(run("first-password-123")).toContain("ops@example.com created");
    expect((await attempt("ops@example.com", "first-password-123")).ok).toBe(true);
    // Changed through the dashboard (here: the verb it calls) ...
    const row = (await findAdminUserByEmail(ctx.db, "ops@example.com"))!;
    await updateAdminUser(ctx, row.id, { password: "changed-in-dashboard" }, cliCaller("test"));
    // ... a restart with the same variable keeps that change,
    expect(run("first-password-123")).toContain("present");
    expect((await attempt("ops@example.com", "changed-in-dashboard")).ok).toBe(true);
    // and a changed variable wins again.
    expect(run("second-password-456")).toContain("password set from the changed ADMIN_PASSWORD");
    expect((await attempt("ops@example.com", "second-password-456")).ok).toBe(true);
    expect((await attempt("ops@example.com", "changed-in-dashboard")).ok).toBe(false);
  });

  it("the last active admin can be neither demoted nor disabled", async () => {
    adminCli(["add", "solo-viewer@example.com", "--role", "viewer", "--password-stdin"], { input: "viewer-password-1" });
    const admins = ["admin@localhost", "ops@example.com"];
    const first = (await findAdminUserByEmail(ctx.db, admins[0]))!;
    const second = (await findAdminUserByEmail(ctx.db, admins[1]))!;
    await updateAdminUser(ctx, first.id, { role: "viewer" }, cliCaller("test"));
    await expect(updateAdminUser(ctx, second.id, { disabled: true }, cliCaller("test"))).rejects.toMatchObject({
      code: "CONFLICT",
    });
    await expect(updateAdminUser(ctx, second.id, { role: "viewer" }, cliCaller("test"))).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect((await findAdminUserByEmail(ctx.db, admins[1]))?.role).toBe("admin");
    await updateAdminUser(ctx, first.id, { role: "admin" }, cliCaller("test"));
  });
});

describe("sign-in", () => {
  it("one message for an unknown email, a wrong password and a disabled user", async () => {
    adminCli(["add", "limited@example.com", "--role", "viewer", "--password-stdin"], { input: "right-password-1" });
    const unknown = await attempt("nobody@example.com", "whatever-password", "198.51.100.30");
    const wrong = await attempt("limited@example.com", "wrong-password", "198.51.100.30");
    expect(unknown).toMatchObject({ ok: false, code: "UNAUTHORIZED", message: "wrong email or password" });
    expect(wrong).toMatchObject({ ok: false, code: "UNAUTHORIZED", message: "wrong email or password" });
    const row = (await findAdminUserByEmail(ctx.db, "limited@example.com"))!;
    await updateAdminUser(ctx, row.id, { disabled: true }, cliCaller("test"));
    expect(await attempt("limited@example.com", "right-password-1", "198.51.100.30")).toMatchObject({
      ok: false,
      message: "wrong email or password",
    });
    await updateAdminUser(ctx, row.id, { disabled: false }, cliCaller("test"));
  });

  it("10 attempts per email and address in 15 minutes; the 11th waits, another address is not locked out", async () => {
    const ip = "203.0.113.40";
    for (let index = 0; index < 10; index += 1)
      expect((await attempt("limited@example.com", `wrong-${index}`, ip)).code).toBe("UNAUTHORIZED");
    const limited = await attempt("limited@example.com", "right-password-1", ip);
    expect(limited).toMatchObject({ ok: false, code: "RATE_LIMITED" });
    expect(limited.ok ? "" : limited.message).toMatch(/^too many attempts, try again in 15 minutes$/);
    // The owner, signing in from elsewhere, is not locked out by someone guessing their email.
    expect((await attempt("limited@example.com", "right-password-1", "203.0.113.41")).ok).toBe(true);
  });

  it("50 attempts per address in an hour, whatever the emails", async () => {
    const ip = "203.0.113.50";
    for (let index = 0; index < 50; index += 1) await attempt(`guess-${index}@example.com`, "x", ip);
    expect(await attempt("limited@example.com", "right-password-1", ip)).toMatchObject({ ok: false, code: "RATE_LIMITED" });
  });
});

describe("failed sign-ins of one account, from any address", () => {
  it("slow every later attempt down, never lock the right password out, and are forgotten after a success", async () => {
    adminCli(["add", "guessed@example.com", "--role", "viewer", "--password-stdin"], { input: "guessed-password-1" });
    const timed = async (password: string, clientIp: string) => {
      const started = performance.now();
      const outcome = await attempt("guessed@example.com", password, clientIp);
      return { ok: outcome.ok, ms: performance.now() - started };
    };
    // Five guesses from five addresses (no per-address limit is reached): no delay yet.
    const free = [];
    for (let n = 0; n < ACCOUNT_FREE_FAILURES; n += 1) free.push(await timed("wrong", `203.0.113.${100 + n}`));
    expect(free.every((t) => !t.ok)).toBe(true);
    const sixth = await timed("wrong", "203.0.113.120");
    expect(sixth.ok).toBe(false);
    expect(sixth.ms).toBeGreaterThanOrEqual(accountDelayMs(ACCOUNT_FREE_FAILURES));
    expect(sixth.ms).toBeGreaterThan(Math.max(...free.map((t) => t.ms)));
    // The owner, from yet another address, still gets in (after the wait), and that clears the count.
    const owner = await timed("guessed-password-1", "198.51.100.77");
    expect(owner.ok).toBe(true);
    expect(owner.ms).toBeGreaterThanOrEqual(accountDelayMs(ACCOUNT_FREE_FAILURES + 1));
    const after = await timed("wrong", "203.0.113.121");
    expect(after.ms).toBeLessThan(accountDelayMs(ACCOUNT_FREE_FAILURES));
  });
});

describe("the audit log", () => {
  it("records API mutations with the key that made them and the request id, never a secret", async () => {
    const slug = `audited-${Date.now().toString(36)}`;
    const created = await api("/api/v1/apps", {
      method: "POST",
      json: { slug, image: "tryitnow/hello:latest", pool_target: 0, pool_max: 10, env: { TOKEN: "s3cret-value" } },
    });
    expect(created.status).toBe(201);
    await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { pool_max: 7 } });
    await api(`/api/v1/apps/${slug}`, { method: "DELETE" });
    const { entries } = await listAudit(ctx, AuditQuery.parse({ target_kind: "app", target: slug }));
    expect(entries.map((entry) => entry.action)).toEqual(["app.delete", "app.update", "app.create"]);
    expect(entries[2]).toMatchObject({
      actor: { kind: "env", label: "API_KEY" },
      request_id: created.headers.get("x-request-id"),
    });
    expect(entries[1].summary).toEqual({ before: { pool_max: 10 }, after: { pool_max: 7 } });
    expect(JSON.stringify(entries)).not.toContain("s3cret-value");
    expect(JSON.stringify(entries[2].summary)).toContain("TOKEN");
  });
});

describe("the deployment's secret", () => {
  it("is generated once and kept in MariaDB; each purpose gets its own derived key", async () => {
    const session = await derivedKey(ctx, "session");
    const token = await derivedKey(ctx, "instance-token");
    expect(session).toHaveLength(32);
    expect(session.equals(token)).toBe(false);
    const [row] = await ctx.db.select().from(settings).where(eq(settings.name, "auth_secret"));
    expect(typeof row?.value).toBe("string");
    expect(String(row?.value).length).toBeGreaterThanOrEqual(43);
  });
});
