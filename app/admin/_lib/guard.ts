import { redirect } from "next/navigation";
import { type AdminUser, currentAdmin } from "@/lib/admin/session";
import { type Caller, unrestrictedCaller } from "@/lib/audit/model";
import type { Ctx } from "@/lib/context";
import { webContext } from "@/lib/http/web-context";

/**
 * The signed-in user of a dashboard page, or a redirect to the sign-in page that comes back to
 * `path` afterwards. Every page calls it: the check is made on the server for each request.
 */
export async function requireUser(path: string): Promise<{ ctx: Ctx; user: AdminUser; caller: Caller }> {
  const ctx = webContext();
  const user = await currentAdmin(ctx);
  if (!user) redirect(`/admin/sign-in?next=${encodeURIComponent(path)}`);
  // Dashboard users see every app; what a viewer may not change is refused by the /admin/api routes.
  return { ctx, user, caller: unrestrictedCaller({ kind: "user", label: user.email }) };
}

/** A `next` parameter is followed only to a dashboard path of this site (no open redirect). */
export function safeNext(next: string | string[] | undefined): string {
  const value = typeof next === "string" ? next : "";
  return /^\/admin(\/[\w\-./?=&%]*)?$/.test(value) && !value.startsWith("//") && !value.includes("..") ? value : "/admin";
}
