"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut } from "next-auth/react";

const LINKS = [
  { href: "/admin", label: "Overview" },
  { href: "/admin/apps", label: "Apps" },
  { href: "/admin/analytics", label: "Analytics" },
  { href: "/admin/keys", label: "API keys" },
  { href: "/admin/users", label: "Users", adminOnly: true },
  { href: "/admin/abuse", label: "Abuse" },
  { href: "/admin/jobs", label: "Jobs" },
  { href: "/admin/audit", label: "Audit log" },
];

/** The dashboard's navigation: a sidebar on wide screens, a scrolling bar on phones. */
export function AdminNav({ email, role }: { email: string; role: "admin" | "viewer" }) {
  const pathname = usePathname();
  const current = (href: string) => (href === "/admin" ? pathname === "/admin" : pathname.startsWith(href));
  return (
    <nav aria-label="Dashboard" className="flex flex-col gap-3 md:h-full">
      <Link href="/admin" className="px-2 text-lg font-semibold text-white">
        Try It Now
      </Link>
      <ul className="-mx-1 flex gap-1 overflow-x-auto pb-1 md:mx-0 md:flex-col md:overflow-visible md:pb-0">
        {LINKS.filter((link) => !link.adminOnly || role === "admin").map((link) => (
          <li key={link.href} className="shrink-0">
            <Link
              href={link.href}
              aria-current={current(link.href) ? "page" : undefined}
              className="block rounded-md px-3 py-1.5 text-sm text-slate-300 hover:bg-slate-800 hover:text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400 aria-[current=page]:bg-slate-800 aria-[current=page]:text-white"
            >
              {link.label}
            </Link>
          </li>
        ))}
      </ul>
      <div className="flex items-center justify-between gap-2 border-t border-slate-800 pt-3 md:mt-auto md:flex-col md:items-start">
        <p className="min-w-0 max-w-full truncate text-xs text-slate-400" title={email}>
          {email} · {role}
        </p>
        <button
          type="button"
          onClick={() => signOut({ callbackUrl: "/admin/sign-in" })}
          className="shrink-0 rounded-md px-3 py-1.5 text-sm text-slate-300 hover:bg-slate-800 hover:text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400"
        >
          Sign out
        </button>
      </div>
    </nav>
  );
}
