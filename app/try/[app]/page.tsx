import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getApp } from "@/lib/apps/get";
import { EVERY_APP } from "@/lib/audit/model";
import { AppError } from "@/lib/errors";
import { webContext } from "@/lib/http/web-context";
import { publishableKeyAllows } from "@/lib/keys/authenticate";
import { launchPageUrl } from "@/lib/public-url";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ app: string }>; searchParams: Promise<{ key?: string | string[] }> };

/**
 * The app as its public launch page shows it, or one and the same 404 ("not public") for anything
 * else: an unknown app, an app without its launch page and no key, a key that is not an active
 * publishable key of this app.
 */
async function publicApp(slug: string, key: string | undefined) {
  const ctx = webContext();
  const app = await getApp(ctx, slug, EVERY_APP).catch((error) => {
    if (error instanceof AppError && error.code === "NOT_FOUND") notFound();
    throw error;
  });
  if (key !== undefined ? !(await publishableKeyAllows(ctx, key, slug)) : !app.launch_page) notFound();
  return app;
}

const publishable = (key: string | string[] | undefined) =>
  typeof key === "string" && key.startsWith("tin_pk_") ? key : undefined;

/** The page's own address comes from PUBLIC_URL, not from the Host header a client sent. */
export async function generateMetadata({ params, searchParams }: Props): Promise<Metadata> {
  const { app: slug } = await params;
  const app = await publicApp(slug, publishable((await searchParams).key));
  const url = launchPageUrl(webContext().config, slug);
  const title = `Try ${app.name} now`;
  return { title, description: app.description || undefined, alternates: { canonical: url }, openGraph: { url, title } };
}

/** The launch page: the same embeddable widget as any site's button, on our own origin. */
export default async function TryPage({ params, searchParams }: Props) {
  const { app: slug } = await params;
  // Only a publishable key belongs in a page; anything else is ignored.
  const key = publishable((await searchParams).key);
  const app = await publicApp(slug, key);
  const pageUrl = launchPageUrl(webContext().config, slug);
  return (
    <main className="mx-auto max-w-2xl space-y-6 px-4 py-16">
      <h1 className="break-words text-3xl font-semibold">Try {app.name} now</h1>
      {app.description && <p className="text-lg text-slate-700">{app.description}</p>}
      <p className="text-slate-600">You get a private, running copy for a limited time. Nobody else sees it.</p>
      <div data-tryitnow="" data-app={slug} className="min-h-12" />
      <script src="/embed.js" async data-key={key} />
      <p className="text-sm text-slate-500">
        Share this page:{" "}
        <a className="break-all font-mono text-indigo-700 underline" href={pageUrl} data-testid="share-url">
          {pageUrl}
        </a>
      </p>
    </main>
  );
}
