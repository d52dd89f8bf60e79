import Link from "next/link";

export default function Home() {
  return (
    <main className="mx-auto max-w-2xl space-y-6 px-4 py-16">
      <h1 className="text-3xl font-semibold">Try It Now</h1>
      <p className="text-slate-600">
        A warm pool of real, private app containers behind a one-click button. The REST API lives under{" "}
        <code className="rounded bg-slate-100 px-1">/api/v1</code>; health at{" "}
        <code className="rounded bg-slate-100 px-1">/health</code>.
      </p>
      <Link className="inline-block rounded-md bg-indigo-600 px-4 py-2 font-medium text-white" href="/try/default">
        Try the default app
      </Link>
    </main>
  );
}
