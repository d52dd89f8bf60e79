import type { Metadata } from "next";
import Link from "next/link";
import { Ago } from "@/components/admin/time";
import { Badge } from "@/components/ui/badge";
import { buttonClass } from "@/components/ui/button";
import { Input, Select } from "@/components/ui/input";
import { EmptyState, Table, TBody, Td, THead, Th } from "@/components/ui/table";
import { AuditQuery, listAudit } from "@/lib/audit/list";
import { requireUser } from "../../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Audit log · Try It Now" };

const summaryText = (summary: unknown) => {
  if (!summary) return "";
  const text = JSON.stringify(summary);
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
};

export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { ctx } = await requireUser("/admin/audit");
  const raw = await searchParams;
  const parsed = AuditQuery.safeParse({
    target_kind: raw.target_kind || undefined,
    target: typeof raw.target === "string" ? raw.target.trim() : undefined,
    before: raw.before,
  });
  const query = parsed.success ? parsed.data : AuditQuery.parse({});
  const { entries, next_before } = await listAudit(ctx, query);
  const filtered = Boolean(query.target_kind || query.target);
  const nextLink = new URLSearchParams({
    ...(query.target_kind ? { target_kind: query.target_kind } : {}),
    ...(query.target ? { target: query.target } : {}),
    before: String(next_before ?? ""),
  });
  return (
    <div className="max-w-6xl space-y-6">
      <header>
        <h1 className="text-2xl font-semibold text-slate-900">Audit log</h1>
        <p className="text-sm text-slate-600">Every change made through this dashboard or the API, newest first.</p>
      </header>
      <form method="get" className="flex flex-wrap items-end gap-3" aria-label="Filter the audit log">
        <div className="space-y-1">
          <label htmlFor="target_kind" className="block text-sm font-medium text-slate-800">
            Target
          </label>
          <Select id="target_kind" name="target_kind" defaultValue={query.target_kind ?? ""} className="w-36">
            <option value="">any kind</option>
            <option value="app">app</option>
            <option value="key">key</option>
            <option value="user">user</option>
            <option value="instance">instance</option>
          </Select>
        </div>
        <div className="space-y-1">
          <label htmlFor="target" className="block text-sm font-medium text-slate-800">
            Name or id
          </label>
          <Input id="target" name="target" defaultValue={query.target ?? ""} placeholder="e.g. shop" className="w-56" />
        </div>
        <button type="submit" className={buttonClass("secondary")}>
          Filter
        </button>
        {filtered && (
          <Link href="/admin/audit" className="text-sm text-indigo-700 underline">
            Clear
          </Link>
        )}
      </form>
      {entries.length === 0 ? (
        <EmptyState title={filtered ? "Nothing recorded for this target" : "Nothing recorded yet"}>
          {filtered ? "Try another name, or clear the filter." : "Changes to apps, keys, users and running demos appear here."}
        </EmptyState>
      ) : (
        <Table label="Audit log">
          <THead>
            <Th>When</Th>
            <Th>Action</Th>
            <Th>Target</Th>
            <Th>Who</Th>
            <Th>Change</Th>
            <Th>Request</Th>
          </THead>
          <TBody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <Td className="whitespace-nowrap text-xs">
                  <Ago iso={entry.at} />
                </Td>
                <Td>
                  <Badge
                    tone={
                      entry.action.includes("delete") || entry.action.includes("revoke") || entry.action.includes("terminate")
                        ? "red"
                        : "slate"
                    }
                  >
                    {entry.action}
                  </Badge>
                </Td>
                <Td className="max-w-[12rem]">
                  <Link
                    href={`/admin/audit?target_kind=${entry.target.kind}&target=${encodeURIComponent(entry.target.id)}`}
                    className="block truncate font-mono text-xs text-indigo-700 hover:underline"
                    title={`${entry.target.kind} ${entry.target.id}`}
                  >
                    {entry.target.kind}:{entry.target.id}
                  </Link>
                </Td>
                <Td className="max-w-[14rem]">
                  <span className="block truncate text-sm" title={entry.actor.label}>
                    {entry.actor.label}
                  </span>
                  <span className="text-xs text-slate-500">{entry.actor.kind}</span>
                </Td>
                <Td className="max-w-[22rem] break-words font-mono text-xs text-slate-600">{summaryText(entry.summary)}</Td>
                <Td className="max-w-[8rem] truncate font-mono text-xs text-slate-500" title={entry.request_id ?? ""}>
                  {entry.request_id ?? "—"}
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}
      {next_before && (
        <Link href={`/admin/audit?${nextLink}`} className={buttonClass("secondary")}>
          Older entries
        </Link>
      )}
    </div>
  );
}
