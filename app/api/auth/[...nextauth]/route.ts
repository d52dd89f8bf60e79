import { authRoute } from "@/lib/admin/auth-route";

export const dynamic = "force-dynamic";

// The dashboard's sign-in (next-auth). The dashboard session is not an API key: /api/v1 ignores it.
export { authRoute as GET, authRoute as POST };
