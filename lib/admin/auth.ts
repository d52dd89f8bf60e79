import type { NextAuthOptions } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { requestClient } from "../http/client-ip";
import { derivedKey } from "../secrets";
import { signIn } from "./sign-in";

const header = (headers: Record<string, unknown> | undefined, name: string): string | null => {
  const value = headers?.[name];
  return typeof value === "string" ? value : null;
};

/**
 * next-auth's options (Credentials against `admin_users`, JWT sessions). Its URL is PUBLIC_URL, its
 * secret a key derived from the deployment's secret; cookies are HttpOnly and SameSite=Lax, Secure
 * when PUBLIC_URL is https.
 */
export async function authOptions(ctx: Ctx): Promise<NextAuthOptions> {
  // next-auth reads its own origin from here for redirects and callback URLs, never from the Host header.
  process.env.NEXTAUTH_URL = ctx.config.PUBLIC_URL;
  const maxAge = Math.max(60, Math.round(ctx.config.ADMIN_SESSION_TTL / 1000));
  return {
    secret: (await derivedKey(ctx, "session")).toString("base64url"),
    session: { strategy: "jwt", maxAge },
    jwt: { maxAge },
    useSecureCookies: ctx.config.PUBLIC_URL.startsWith("https:"),
    pages: { signIn: "/admin/sign-in", error: "/admin/sign-in" },
    providers: [
      Credentials({
        id: "credentials",
        name: "email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(credentials, request) {
          const headers = request?.headers as Record<string, unknown> | undefined;
          const { ip } = requestClient({ get: (name) => header(headers, name) }, ctx.config.TRUSTED_PROXIES);
          try {
            const user = await signIn(ctx, {
              email: credentials?.email ?? "",
              password: credentials?.password ?? "",
              clientIp: ip,
            });
            return { id: user.id, email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion };
          } catch (error) {
            // The message is all the sign-in form shows: the uniform one, or the limiter's wait.
            if (error instanceof AppError) throw new Error(error.message);
            ctx.log.error({ err: (error as Error).message }, "sign-in failed");
            throw new Error("sign-in is unavailable right now; try again shortly");
          }
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          token.uid = user.id;
          token.sv = (user as { sessionVersion?: number }).sessionVersion ?? 0;
        }
        return token;
      },
      session({ session, token }) {
        if (session.user) {
          session.user.id = typeof token.uid === "string" ? token.uid : "";
          session.user.sv = typeof token.sv === "number" ? token.sv : -1;
        }
        return session;
      },
    },
    logger: {
      error: (code, metadata) =>
        ctx.log.warn({ code, err: metadata instanceof Error ? metadata.message : undefined }, "next-auth"),
      warn: (code) => ctx.log.warn({ code }, "next-auth"),
      debug: () => undefined,
    },
  };
}
