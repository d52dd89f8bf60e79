import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Ctx } from "../context";
import { publicUrl } from "../public-url";

/** Where `npm run build` bundles the widget (esbuild, from embed/). */
export const EMBED_BUNDLE = ".next/embed/embed.js";
/** The proof-of-work solver the widget loads only for apps that ask for one (`embed/gate.ts`). */
export const GATE_BUNDLE = ".next/embed/gate.js";

export interface EmbedAsset {
  body: Buffer;
  /** First 16 hex characters of its SHA-256: the immutable file name and the ETag. */
  hash: string;
  /** Subresource Integrity of the file (sha384, base64). */
  integrity: string;
}

/** A built bundle of the widget (the widget itself unless named), read once per context. */
export function embedAsset(ctx: Ctx, bundle: string = EMBED_BUNDLE): Promise<EmbedAsset> {
  const cache = ctx.service("embed-assets", () => new Map<string, Promise<EmbedAsset>>());
  let asset = cache.get(bundle);
  if (!asset) {
    asset = readFile(bundle)
      .then((body) => ({
        body,
        hash: createHash("sha256").update(body).digest("hex").slice(0, 16),
        integrity: `sha384-${createHash("sha384").update(body).digest("base64")}`,
      }))
      .catch((error) => {
        cache.delete(bundle);
        throw error;
      });
    cache.set(bundle, asset);
  }
  return asset;
}

/** The script as a response: short-lived at /embed.js, immutable at its hashed name. */
export function embedResponse(asset: EmbedAsset, ifNoneMatch: string | null, immutable: boolean): Response {
  const etag = `"${asset.hash}"`;
  const headers = {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "public, max-age=300",
    ETag: etag,
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
  };
  if (ifNoneMatch?.split(",").some((tag) => tag.trim() === etag)) return new Response(null, { status: 304, headers });
  return new Response(new Uint8Array(asset.body), { status: 200, headers });
}

/** The tag an owner pastes for a publishable key: the hashed URL with its integrity hash. */
export async function embedSnippet(ctx: Ctx, key: string, app: string): Promise<string> {
  const asset = await embedAsset(ctx);
  const src = publicUrl(ctx.config, `/embed/${asset.hash}.js`);
  const attr = (value: string) => value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<script src="${src}" integrity="${asset.integrity}" crossorigin="anonymous" data-key="${attr(key)}" data-app="${attr(app)}" async></script>`;
}
