import { LaunchPanel } from "@/components/launch-panel";

export const dynamic = "force-dynamic";

export default async function TryPage({ params }: { params: Promise<{ app: string }> }) {
  const { app } = await params;
  return (
    <main className="mx-auto max-w-2xl space-y-6 px-4 py-16">
      <h1 className="text-3xl font-semibold">Try {app} now</h1>
      <p className="text-slate-600">You get a private, running copy for a limited time. Nobody else sees it.</p>
      <LaunchPanel app={app} />
    </main>
  );
}
