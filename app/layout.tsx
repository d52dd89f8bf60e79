import type { Metadata } from "next";
import type { ReactNode } from "react";
import { webContext } from "@/lib/http/web-context";
import "./globals.css";

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
