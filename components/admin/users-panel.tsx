"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { describedBy, Field, Input, Select } from "@/components/ui/input";
import { Table, TBody, Td, THead, Th, ThActions } from "@/components/ui/table";
import { adminFetch } from "./api";
import { Ago } from "./time";

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: "admin" | "viewer";
  disabled: boolean;
  created_at: string;
  last_login_at: string | null;
}

/** Dashboard users (admins only): add, change role, disable. The server refuses to lose the last admin. */
export function UsersPanel({ users, me }: { users: UserRow[]; me: string }) {
  const router = useRouter();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ tone: "error" | "ok"; text: string } | null>(null);
  const [disabling, setDisabling] = useState<UserRow | null>(null);
  const [busy, setBusy] = useState(false);

  async function patch(user: UserRow, body: Record<string, unknown>) {
    setBusy(true);
    const result = await adminFetch(`/admin/api/users/${user.id}`, { method: "PATCH", body });
    setBusy(false);
    setMessage(result.ok ? { tone: "ok", text: `${user.email} updated.` } : { tone: "error", text: result.error.message });
    router.refresh();
  }

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = {
      email: String(form.get("email") ?? ""),
      name: String(form.get("name") ?? "") || undefined,
      role: String(form.get("role") ?? "viewer"),
      password: String(form.get("password") ?? ""),
    };
    setBusy(true);
    const result = await adminFetch("/admin/api/users", { method: "POST", body });
    setBusy(false);
    if (!result.ok) {
      setErrors(result.error.fieldErrors);
      setMessage({ tone: "error", text: result.error.message });
      return;
    }
    setErrors({});
    setMessage({ tone: "ok", text: `${body.email} added. Give them their password through a safe channel.` });
    (event.target as HTMLFormElement).reset();
    router.refresh();
  }

  return (
    <div className="space-y-8">
      {message && (
        <p
          role={message.tone === "error" ? "alert" : "status"}
          className={`rounded-md px-3 py-2 text-sm ${message.tone === "error" ? "bg-rose-50 text-rose-700" : "bg-emerald-50 text-emerald-800"}`}
        >
          {message.text}
        </p>
      )}
      <Table label="Users">
        <THead>
          <Th>User</Th>
          <Th>Role</Th>
          <Th>Status</Th>
          <Th>Last sign-in</Th>
          <ThActions />
        </THead>
        <TBody>
          {users.map((user) => (
            <tr key={user.id}>
              <Td className="max-w-[18rem]">
                <span className="block truncate font-medium" title={user.email}>
                  {user.email}
                  {user.id === me ? " (you)" : ""}
                </span>
                <span className="block truncate text-xs text-slate-500">{user.name}</span>
              </Td>
              <Td>
                <label className="sr-only" htmlFor={`role-${user.id}`}>
                  Role of {user.email}
                </label>
                <Select
                  id={`role-${user.id}`}
                  value={user.role}
                  disabled={busy}
                  onChange={(event) => patch(user, { role: event.target.value })}
                  className="w-28"
                >
                  <option value="admin">admin</option>
                  <option value="viewer">viewer</option>
                </Select>
              </Td>
              <Td>{user.disabled ? <Badge tone="red">disabled</Badge> : <Badge tone="green">active</Badge>}</Td>
              <Td className="whitespace-nowrap text-xs">
                <Ago iso={user.last_login_at} />
              </Td>
              <Td>
                {user.disabled ? (
                  <Button size="sm" variant="ghost" disabled={busy} onClick={() => patch(user, { disabled: false })}>
                    Enable<span className="sr-only"> {user.email}</span>
                  </Button>
                ) : (
                  <Button size="sm" variant="ghost" className="text-rose-700" disabled={busy} onClick={() => setDisabling(user)}>
                    Disable<span className="sr-only"> {user.email}</span>
                  </Button>
                )}
              </Td>
            </tr>
          ))}
        </TBody>
      </Table>

      <form
        onSubmit={add}
        noValidate
        className="grid gap-4 rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200 sm:grid-cols-2"
      >
        <h2 className="text-lg font-semibold text-slate-900 sm:col-span-2">Add a user</h2>
        <Field id="user-email" label="Email" error={errors.email}>
          <Input
            id="user-email"
            name="email"
            type="email"
            autoComplete="off"
            aria-invalid={errors.email ? true : undefined}
            aria-describedby={describedBy("user-email", errors.email)}
          />
        </Field>
        <Field id="user-name" label="Name (optional)" error={errors.name}>
          <Input id="user-name" name="name" autoComplete="off" />
        </Field>
        <Field id="user-role" label="Role" help="Viewers see everything and change nothing." error={errors.role}>
          <Select id="user-role" name="role" defaultValue="viewer">
            <option value="viewer">viewer</option>
            <option value="admin">admin</option>
          </Select>
        </Field>
        <Field id="user-password" label="Password" help="At least 12 characters." error={errors.password}>
          <Input
            id="user-password"
            name="password"
            type="password"
            autoComplete="new-password"
            aria-invalid={errors.password ? true : undefined}
            aria-describedby={describedBy("user-password", errors.password, true)}
          />
        </Field>
        <div className="sm:col-span-2">
          <Button type="submit" disabled={busy}>
            Add user
          </Button>
        </div>
      </form>

      <ConfirmDialog
        open={disabling !== null}
        title={`Disable ${disabling?.email ?? ""}?`}
        confirmLabel="Disable user"
        busy={busy}
        onCancel={() => setDisabling(null)}
        onConfirm={async () => {
          const user = disabling;
          setDisabling(null);
          if (user) await patch(user, { disabled: true });
        }}
      >
        <p>They are signed out at their next click and cannot sign in until enabled again.</p>
      </ConfirmDialog>
    </div>
  );
}
