import type { Metadata } from "next";
import { LaunchPanel } from "@/components/launch-panel";
import { webContext } from "@/lib/http/web-context";
import { launchPageUrl } from "@/lib/public-url";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ app: string }>; searchParams: Promise<{ key?: string | string[] }> };

/** The page's own address comes from PUBLIC_URL, not from the Host header a client sent. */
export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { app } = await params;
  const url = launchPageUrl(webContext().config, app);
  return { title: `Try ${app} now`, alternates: { canonical: url }, openGraph: { url, title: `Try ${app} now` } };
}

export default async function TryPage({ params, searchParams }: Props) {
  const { app } = await params;
  const { key } = await searchParams;
  // Only a publishable key belongs in a page; anything else is ignored.
  const publishableKey = typeof key === "string" && key.startsWith("tin_pk_") ? key : undefined;
  const pageUrl = launchPageUrl(webContext().config, app);
  return (
    <main className="mx-auto max-w-2xl space-y-6 px-4 py-16">
      <h1 className="break-words text-3xl font-semibold">Try {app} now</h1>
      <p className="text-slate-600">You get a private, running copy for a limited time. Nobody else sees it.</p>
      <LaunchPanel app={app} publishableKey={publishableKey} />
      <p className="text-sm text-slate-500">
        Share this page:{" "}
        <a className="break-all font-mono text-indigo-700 underline" href={pageUrl} data-testid="share-url">
          {pageUrl}
        </a>
      </p>
    </main>
  );
}
