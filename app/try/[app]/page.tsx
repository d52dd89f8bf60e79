import { LaunchPanel } from "@/components/launch-panel";

export const dynamic = "force-dynamic";

export default async function TryPage({
  params,
  searchParams,
}: {
  params: Promise<{ app: string }>;
  searchParams: Promise<{ key?: string | string[] }>;
}) {
  const { app } = await params;
  const { key } = await searchParams;
  // Only a publishable key belongs in a page; anything else is ignored.
  const publishableKey = typeof key === "string" && key.startsWith("tin_pk_") ? key : undefined;
  return (
    <main className="mx-auto max-w-2xl space-y-6 px-4 py-16">
      <h1 className="text-3xl font-semibold">Try {app} now</h1>
      <p className="text-slate-600">You get a private, running copy for a limited time. Nobody else sees it.</p>
      <LaunchPanel app={app} publishableKey={publishableKey} />
    </main>
  );
}
