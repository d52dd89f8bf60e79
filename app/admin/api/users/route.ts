import { createAdminUser } from "@/lib/admin/users/create";
import { UserCreateInput } from "@/lib/admin/users/model";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const POST = withRoute({ route: "admin.users.create", body: UserCreateInput }, async ({ ctx, input, caller }) =>
  json(await createAdminUser(ctx, input, caller), { status: 201 }),
);
