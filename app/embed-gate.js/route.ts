import { embedAsset, embedResponse, GATE_BUNDLE } from "@/lib/embed/asset";
import type { RequestView } from "@/lib/http/request";
import { webContext } from "@/lib/http/web-context";

export const dynamic = "force-dynamic";

/** The proof-of-work solver, which the widget loads only for apps whose gate asks for it. */
export async function GET(request: RequestView): Promise<Response> {
  return embedResponse(await embedAsset(webContext(), GATE_BUNDLE), request.headers.get("if-none-match"), false);
}
