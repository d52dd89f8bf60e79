import type { Metadata } from "next";
import type { ReactNode } from "react";
import { webContext } from "@/lib/http/web-context";
import "./globals.css";

// Every page is rendered per request: its Content-Security-Policy carries a fresh nonce that Next.js
// puts on the page's inline scripts (server.ts), which a prerendered page could not have.
export const dynamic = "force-dynamic";

/** Relative URLs in metadata (canonical, Open Graph) resolve against PUBLIC_URL. */
export async function generateMetadata(): Promise<Metadata> {
  return {
    metadataBase: new URL(webContext().config.PUBLIC_URL),
    title: "Try It Now",
    description: "A private, running copy of an app in one click",
  };
}

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased">{children}</body>
    </html>
  );
}
