/** What a visitor sees for an app that does not exist or has no public launch page: never an API error. */
export default function NotPublic() {
  return (
    <main className="mx-auto max-w-2xl space-y-4 px-4 py-16">
      <h1 className="text-3xl font-semibold">This demo is not public</h1>
      <p className="text-slate-600">There is no demo to start here. If someone sent you this link, ask them for a new one.</p>
    </main>
  );
}
