import { seedUploadLimit, uploadSeed } from "@/lib/apps/upload-seed";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** The SQL dump as the body (any content type), up to SEED_UPLOAD_MAX_MB. */
export const POST = withRoute({ route: "apps.seed", rawBody: seedUploadLimit }, async ({ ctx, params, raw, caller }) =>
  json(await uploadSeed(ctx, params.slug, raw, caller)),
);

export { methodNotAllowed as DELETE, methodNotAllowed as GET, methodNotAllowed as PATCH, methodNotAllowed as PUT };
