import { AppError } from "@/lib/errors";
import { withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** Unknown API paths answer in the error envelope, not with the HTML 404 page. */
const notFound = withRoute({ name: "api.unknown", auth: "public" }, async () => {
  throw new AppError("NOT_FOUND", "no such API endpoint");
});

export { notFound as DELETE, notFound as GET, notFound as PATCH, notFound as POST, notFound as PUT };
