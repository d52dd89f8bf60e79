import { embedSnippet } from "@/lib/embed/asset";
import { json, withRoute } from "@/lib/http/route";
import { createKey } from "@/lib/keys/create";
import { KeyCreateInput } from "@/lib/keys/model";

export const dynamic = "force-dynamic";

/** Makes a key; a publishable one comes with its embed tag, the only time the key can be in it. */
export const POST = withRoute({ name: "admin.keys.create", auth: { session: "admin" }, body: KeyCreateInput }, async ({ ctx, input, caller }) => {
  const created = await createKey(ctx, input, caller);
  const snippet = created.kind === "publishable" && created.apps?.[0] ? await embedSnippet(ctx.config, created.key, created.apps[0]) : null;
  return json({ ...created, snippet }, { status: 201 });
});
