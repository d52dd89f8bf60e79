import type { NextRequest } from "next/server";
import NextAuth from "next-auth";
import { webContext } from "../http/web-context";
import { authOptions } from "./auth";

/** next-auth's route handler (`/api/auth/*`): sign-in, sign-out, session, CSRF token. */
export async function authRoute(request: NextRequest, context: { params: Promise<{ nextauth: string[] }> }): Promise<Response> {
  const handler = NextAuth as unknown as (req: NextRequest, ctx: unknown, options: unknown) => Promise<Response>;
  return handler(request, context, await authOptions(webContext()));
}
