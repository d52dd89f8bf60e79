import { embedAsset, embedResponse } from "@/lib/embed/asset";
import type { RequestView } from "@/lib/http/request";
import { webContext } from "@/lib/http/web-context";

export const dynamic = "force-dynamic";

/** `/embed/<hash>.js`: the widget under its content hash, cached for good; any other name is 404. */
export async function GET(request: RequestView, { params }: { params: Promise<{ file: string }> }): Promise<Response> {
  const asset = await embedAsset(webContext());
  if ((await params).file !== `${asset.hash}.js`)
    return new Response("not found\n", { status: 404, headers: { "Content-Type": "text/plain" } });
  return embedResponse(asset, request.headers.get("if-none-match"), true);
}
