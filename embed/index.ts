/**
 * Try It Now's embeddable button (ARCHITECTURE.md, "Embed and launch page"):
 *   <script src="<PUBLIC_URL>/embed.js" data-key="tin_pk_…" data-app="shop" async></script>
 * renders a button where the tag is, or in every `<div data-tryitnow data-app="…">` of the page.
 * It talks only to the origin it was loaded from, with a publishable key (or none on our own
 * launch page), and keeps the running demo in localStorage. No dependencies, no eval, no cookies.
 */
import { TEXTS, type Texts } from "./texts";
import { listeners, type Options, Widget } from "./widget";

declare global {
  interface Window {
    TryItNow?: { open(app?: string): void; end(): void; on(event: string, fn: (detail: unknown) => void): void };
  }
}

const widgets: Widget[] = [];
const mounted = new WeakSet<Element>();

function texts(locale: string | undefined): Texts {
  if (!locale) return TEXTS;
  try {
    return { ...TEXTS, ...(JSON.parse(locale) as Partial<Texts>) };
  } catch {
    console.error('Try It Now: data-locale must be JSON, e.g. {"try":"Essayer"}');
    return TEXTS;
  }
}

function options(base: string, key: string, data: DOMStringMap, fallback?: Options): Options {
  return {
    base,
    key,
    app: data.app ?? fallback?.app ?? "",
    label: data.label ?? fallback?.label ?? "",
    theme: data.theme ?? fallback?.theme ?? "light",
    color: data.color ?? fallback?.color ?? "",
    open: (data.open ?? fallback?.open) === "modal" ? "modal" : "tab",
    texts: data.locale ? texts(data.locale) : (fallback?.texts ?? TEXTS),
    analytics: (data.analytics ?? (fallback?.analytics === false ? "off" : "on")) !== "off",
  };
}

function boot(script: HTMLScriptElement): void {
  const base = new URL(script.src).origin;
  const key = script.dataset.key ?? "";
  if (key.startsWith("tin_sk_")) {
    console.error(
      "Try It Now: this tag carries a secret key (tin_sk_…), which must never be in a web page. Nothing is shown; use a publishable key (tin_pk_…).",
    );
    return;
  }
  if (!key && base !== location.origin) {
    console.error("Try It Now: data-key is missing; create a publishable key for this site in the dashboard.");
    return;
  }
  const defaults = options(base, key, script.dataset);
  const mount = () => {
    const targets = [...document.querySelectorAll<HTMLElement>("[data-tryitnow]")];
    if (!targets.length) {
      const host = document.createElement("span");
      script.after(host);
      targets.push(host);
    }
    for (const host of targets) {
      if (mounted.has(host)) continue;
      mounted.add(host);
      const own = options(base, key, host.dataset, defaults);
      if (!own.app) {
        console.error("Try It Now: data-app is missing on the tag or the element");
        continue;
      }
      widgets.push(new Widget(host, own));
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
  window.TryItNow ??= {
    open: (app) => void (widgets.find((widget) => !app || widget.o.app === app) ?? widgets[0])?.start(),
    end: () => {
      for (const widget of widgets) void widget.end();
    },
    on: (event, fn) => {
      const set = listeners.get(event) ?? new Set();
      set.add(fn);
      listeners.set(event, set);
    },
  };
}

const script = document.currentScript;
if (script instanceof HTMLScriptElement && script.src) boot(script);
