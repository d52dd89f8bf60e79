import { z } from "zod";
import type { AdminUserRow } from "../../db/schema";
import { MIN_PASSWORD_LENGTH } from "../password";

export const ROLES = ["admin", "viewer"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, "an email address such as ops@example.com");

const Password = z.string().min(MIN_PASSWORD_LENGTH, `at least ${MIN_PASSWORD_LENGTH} characters`).max(200);

export const UserCreateInput = z
  .object({ email: Email, name: z.string().trim().max(200).optional(), role: Role.default("viewer"), password: Password })
  .strict();
export type UserCreateInput = z.infer<typeof UserCreateInput>;

export const UserPatchInput = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    role: Role.optional(),
    disabled: z.boolean().optional(),
    password: Password.optional(),
  })
  .strict();
export type UserPatchInput = z.infer<typeof UserPatchInput>;

/** A user as the dashboard shows it: never the hash. */
export function userView(row: AdminUserRow) {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabledAt !== null,
    created_at: row.createdAt.toISOString(),
    last_login_at: row.lastLoginAt?.toISOString() ?? null,
  };
}
