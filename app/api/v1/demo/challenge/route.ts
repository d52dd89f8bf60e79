import { z } from "zod";
import { DEFAULT_APP, Slug } from "@/lib/app-spec";
import { challengeFor } from "@/lib/gate/challenge";
import { json, methodNotAllowed, preflight, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** A proof-of-work challenge for the next acquire of an app, or `{required: false}` when it needs none. */
export const POST = withRoute(
  { route: "demo.challenge", body: z.object({ app: Slug.optional() }), maxBodyBytes: 1024 },
  async ({ ctx, actor, input, clientIp }) => json(await challengeFor(ctx, { app: input.app ?? DEFAULT_APP, actor, clientIp })),
);

export {
  methodNotAllowed as DELETE,
  methodNotAllowed as GET,
  methodNotAllowed as PATCH,
  methodNotAllowed as PUT,
  preflight as OPTIONS,
};
