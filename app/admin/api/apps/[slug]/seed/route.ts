import { seedUploadLimit, uploadSeed } from "@/lib/apps/upload-seed";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const POST = withRoute({ route: "admin.apps.seed", rawBody: seedUploadLimit }, async ({ ctx, params, raw, caller }) =>
  json(await uploadSeed(ctx, params.slug, raw, caller)),
);
