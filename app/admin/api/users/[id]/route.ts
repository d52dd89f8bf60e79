import { UserPatchInput } from "@/lib/admin/users/model";
import { updateAdminUser } from "@/lib/admin/users/update";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const PATCH = withRoute({ route: "admin.users.update", body: UserPatchInput }, async ({ ctx, params, input, caller }) =>
  json(await updateAdminUser(ctx, params.id, input, caller)),
);
