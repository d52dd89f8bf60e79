import { embedAsset, embedResponse } from "@/lib/embed/asset";
import type { RequestView } from "@/lib/http/request";
import { webContext } from "@/lib/http/web-context";

export const dynamic = "force-dynamic";

/** The embeddable widget (short cache; the admin snippet uses the immutable hashed URL instead). */
export async function GET(request: RequestView): Promise<Response> {
  return embedResponse(await embedAsset(webContext()), request.headers.get("if-none-match"), false);
}
