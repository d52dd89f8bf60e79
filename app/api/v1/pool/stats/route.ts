import { json, withRoute } from "@/lib/http/route";
import { poolStats } from "@/lib/pool/stats";

export const dynamic = "force-dynamic";

export const GET = withRoute({ name: "pool.stats", auth: "key" }, async ({ ctx }) => json(await poolStats(ctx)));
