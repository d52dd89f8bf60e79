import { overview } from "@/lib/admin/overview";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** The overview's live numbers, polled by the page every 2 s. */
export const GET = withRoute({ route: "admin.overview" }, async ({ ctx }) => json(await overview(ctx)));
