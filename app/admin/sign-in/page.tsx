import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/admin/sign-in-form";
import { currentAdmin } from "@/lib/admin/session";
import { webContext } from "@/lib/http/web-context";
import { safeNext } from "../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Sign in · Try It Now" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const next = safeNext((await searchParams).next);
  if (await currentAdmin(webContext())) redirect(next);
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-10">
      <div className="w-full max-w-sm space-y-6">
        <div className="space-y-1 text-center">
          <h1 className="text-2xl font-semibold text-slate-900">Sign in to Try It Now</h1>
          <p className="text-sm text-slate-600">The dashboard for your demo pools.</p>
        </div>
        <SignInForm next={next} />
        <p className="text-center text-xs text-slate-500">
          First start? The password of <span className="font-mono">admin@localhost</span> was printed by{" "}
          <span className="font-mono">npm start</span> and saved in <span className="font-mono">.data/admin-password</span>.
        </p>
      </div>
    </main>
  );
}
