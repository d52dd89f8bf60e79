import type { ReactNode } from "react";
import { AdminNav } from "@/components/admin/nav";
import { currentAdmin } from "@/lib/admin/session";
import { webContext } from "@/lib/http/web-context";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  // Every page checks the session itself and sends a visitor without one to the sign-in page with
  // its own path to come back to; the layout only draws the navigation for a signed-in user.
  const user = await currentAdmin(webContext());
  if (!user) return children;
  return (
    <div className="min-h-screen md:flex">
      <aside className="bg-slate-900 px-3 py-3 md:w-56 md:shrink-0 md:py-5">
        <div className="md:sticky md:top-5 md:h-[calc(100vh-2.5rem)]">
          <AdminNav email={user.email} role={user.role} />
        </div>
      </aside>
      <main className="min-w-0 flex-1 px-4 py-6 md:px-8">{children}</main>
    </div>
  );
}
