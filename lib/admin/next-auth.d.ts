import type { DefaultSession } from "next-auth";

declare module "next-auth" {
  interface Session {
    user?: DefaultSession["user"] & { id: string; sv: number };
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    uid?: string;
    /** The user's session version when they signed in (admin_users.session_version). */
    sv?: number;
  }
}
