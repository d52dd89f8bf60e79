import { CSS } from "./styles";
import { fill, type Texts } from "./texts";

export interface Options {
  base: string;
  key: string;
  app: string;
  label: string;
  theme: string;
  color: string;
  open: "tab" | "modal";
  texts: Texts;
  /** Impression and click beacons; `data-analytics="off"` turns them off. */
  analytics: boolean;
}

/** The running demo, as kept in localStorage (id and token, never a key of the site). */
interface Session {
  id: string;
  token: string;
  url: string;
  expiresAt: number;
  maxExpiresAt: number;
  extensions: number;
  maxExtensions: number;
  extendMinutes: number;
  cta: { label: string; url: string } | null;
  /** The visitor's sign-in to the app, when it has one (acquire's answer, or GET with the token). */
  credentials: { username: string; password: string; login_url: string } | null;
}

type Listener = (detail: unknown) => void;
export const listeners = new Map<string, Set<Listener>>();

const RETRIES = 5;
const POLL_MS = 5000;

const impressed = new Set<string>();

/** The proof-of-work solver (`/embed-gate.js`, ARCHITECTURE.md "Drain protection"): loaded once per page, only when an app asks for it. */
interface Gate {
  solve(challenge: unknown): Promise<string>;
}
declare global {
  interface Window {
    TryItNowGate?: Gate;
  }
}
let gate: Promise<Gate> | undefined;

function loadGate(base: string): Promise<Gate> {
  gate ??= new Promise<Gate>((resolve, reject) => {
    if (window.TryItNowGate) return resolve(window.TryItNowGate);
    const script = el("script", { src: `${base}/embed-gate.js`, async: "" });
    script.addEventListener("load", () => (window.TryItNowGate ? resolve(window.TryItNowGate) : reject(new Error("gate"))));
    script.addEventListener("error", () => {
      gate = undefined;
      reject(new Error("gate"));
    });
    document.head.append(script);
  });
  return gate;
}

/**
 * An impression (once per page view and app) or a click, as a beacon (ARCHITECTURE.md, "Funnel
 * analytics"): it cannot carry headers, so the publishable key rides in the query. Only the page's
 * path and utm_* parameters and the referrer leave the page; the server keeps no more.
 */
function report(o: Options, kind: "impression" | "click"): void {
  if (!o.analytics || !navigator.sendBeacon) return;
  if (kind === "impression") {
    if (impressed.has(o.app)) return;
    impressed.add(o.app);
  }
  const utm = new URLSearchParams([...new URLSearchParams(location.search)].filter(([name]) => name.startsWith("utm_")));
  const query = String(utm);
  const body = {
    type: kind,
    app: o.app,
    page: location.origin + location.pathname + (query ? `?${query}` : ""),
    referrer: document.referrer || undefined,
  };
  try {
    navigator.sendBeacon(`${o.base}/api/v1/events${o.key ? `?key=${encodeURIComponent(o.key)}` : ""}`, JSON.stringify(body));
  } catch {
    // analytics never stands in the visitor's way
  }
}

let sheet: CSSStyleSheet | undefined;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, ...children: (Node | string)[]) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const mmss = (ms: number) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${h ? `${h}:${pad(m)}` : m}:${pad(s % 60)}`;
};

const wait = (seconds: number) =>
  seconds >= 3600 ? `${Math.ceil(seconds / 3600)} h` : seconds >= 60 ? `${Math.ceil(seconds / 60)} min` : `${seconds} s`;

function sessionOf(body: Record<string, unknown>, token: string): Session {
  return {
    id: String(body.id),
    token,
    url: String(body.url),
    expiresAt: Date.parse(String(body.expires_at)),
    maxExpiresAt: Date.parse(String(body.max_expires_at)),
    extensions: Number(body.extensions ?? 0),
    maxExtensions: Number(body.max_extensions ?? 0),
    // Every instance view carries it (lib/pool/view.ts), the app's step or the mirror's fallback.
    extendMinutes: Number(body.extend_minutes),
    cta: (body.cta as Session["cta"]) ?? null,
    credentials: (body.credentials as Session["credentials"]) ?? null,
  };
}

/** One button on the page: shadow root, its own session, its own countdown. */
export class Widget {
  readonly root: ShadowRoot;
  private readonly box: HTMLElement;
  private readonly live: HTMLElement;
  private session: Session | null = null;
  private timer = 0;
  private poll = 0;
  private source: EventSource | null = null;
  private overlay: HTMLElement | null = null;
  private lastMinute = -1;
  private readonly storeKey: string;
  /** The answer to the app's challenge, solved while the visitor reads the page; null when none is asked. */
  private answer: Promise<string | null> = Promise.resolve(null);
  private solved = true;
  /** Said under the session's buttons until the next extension (an extension asked before any visit). */
  private hint = "";

  constructor(
    readonly host: HTMLElement,
    readonly o: Options,
  ) {
    this.root = host.attachShadow({ mode: "open" });
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    this.root.adoptedStyleSheets = [sheet];
    const wrap = el("div", { class: `w ${o.theme === "dark" ? "dark" : o.theme === "auto" ? "auto" : ""}` });
    if (o.color) wrap.style.setProperty("--tin-color", o.color);
    this.box = el("div");
    this.live = el("div", { class: "sr", "aria-live": "polite" });
    wrap.append(this.box, this.live);
    this.root.append(wrap);
    this.storeKey = `tryitnow:${o.base}:${o.app}`;
    addEventListener("storage", (event) => {
      if (event.key === this.storeKey && !event.newValue && this.session) this.finish(false);
    });
    this.idle();
    // The impression counts when the button is on screen, not when the page merely loads it.
    if (o.analytics && typeof IntersectionObserver === "function") {
      const seen = new IntersectionObserver((entries) => {
        if (!entries.some((entry) => entry.isIntersecting)) return;
        seen.disconnect();
        report(o, "impression");
      });
      seen.observe(host);
    }
    void this.restore();
    this.prove();
  }

  /** Asks whether the app wants a proof of work, and starts solving it at once (in slices, on this thread). */
  private prove(): void {
    this.solved = false;
    this.answer = this.call("POST", "/demo/challenge", { app: this.o.app })
      .then(async (response) => {
        const body = (await response.json()) as { required?: boolean; challenge?: unknown };
        if (!response.ok || !body.required) return null;
        return (await loadGate(this.o.base)).solve(body.challenge);
      })
      .catch(() => null)
      .finally(() => {
        this.solved = true;
        performance.mark("tryitnow:checked");
      });
  }

  /** The acquire, with the proof when one was asked for. */
  private acquire(): Promise<Response> {
    return this.answer.then((altcha) =>
      this.call("POST", "/demo/acquire", altcha ? { app: this.o.app, altcha } : { app: this.o.app }),
    );
  }

  private emit(type: string, detail: Record<string, unknown>): void {
    const full = { app: this.o.app, ...detail };
    this.host.dispatchEvent(new CustomEvent(`tryitnow:${type}`, { detail: full, bubbles: true, composed: true }));
    for (const listener of listeners.get(type) ?? []) listener(full);
  }

  private call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.o.key) headers["x-api-key"] = this.o.key;
    if (this.session) headers["x-instance-token"] = this.session.token;
    return fetch(`${this.o.base}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      mode: "cors",
    });
  }

  private show(...nodes: Node[]): void {
    this.box.replaceChildren(...nodes);
  }

  private button(text: string, onClick: () => void, secondary = false): HTMLButtonElement {
    const button = el("button", { type: "button", part: "button", class: secondary ? "s" : "" }, text);
    button.addEventListener("click", onClick);
    return button;
  }

  private idle(): void {
    this.show(this.button(this.o.label || this.o.texts.try, () => void this.start()));
  }

  private message(text: string, again = true): void {
    const panel = el("div", { class: "p", part: "panel", role: "status" }, el("p", {}, text));
    if (again)
      panel.append(
        el(
          "div",
          { class: "row" },
          this.button(this.o.texts.retry, () => void this.start(), true),
        ),
      );
    this.show(panel);
  }

  /** Starts a demo. In `tab` mode the window is opened now, inside the click, so popup blockers allow it. */
  async start(): Promise<void> {
    if (this.session) return this.reveal();
    report(this.o, "click");
    // The request leaves first; the tab (slow to create) opens while it is in flight. The marks let a
    // page (or the bench) see where the time goes.
    performance.mark("tryitnow:click");
    const checking = !this.solved;
    let pending: Promise<Response> | null = this.acquire();
    pending.catch(() => undefined);
    const tab = this.o.open === "tab" ? window.open("", "_blank") : null;
    performance.mark("tryitnow:tab");
    if (tab) tab.document.title = this.o.texts.starting;
    const busy = el(
      "button",
      { type: "button", part: "button", disabled: "" },
      el("span", { class: "spin", "aria-hidden": "true" }),
      checking ? this.o.texts.checking : this.o.texts.starting,
    );
    this.show(busy);
    void this.answer.then(() => {
      busy.lastChild!.textContent = this.o.texts.starting;
    });
    let reproved = false;
    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      try {
        response = await (pending ?? this.acquire());
        pending = null;
      } catch {
        tab?.close();
        console.error(
          `Try It Now: could not reach ${this.o.base} — the network failed, or this page's origin is not among the key's allowed origins.`,
        );
        this.emit("error", { code: "NETWORK" });
        return this.message(this.o.texts.refused);
      }
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (response.ok) {
        performance.mark("tryitnow:acquired");
        this.session = sessionOf(body, String(body.token));
        this.save();
        // An answer is spent with its demo: the next one is solved while this demo runs.
        this.prove();
        this.emit("acquired", { id: this.session.id, url: this.session.url });
        this.running();
        if (tab) {
          tab.opener = null;
          tab.location.replace(this.session.url);
        } else if (this.o.open === "modal") this.modal();
        else if (this.o.open === "tab") this.say(this.o.texts.blocked);
        return;
      }
      const code = String(body.code ?? response.status);
      const after = Number(response.headers.get("retry-after")) || 5;
      if ((code === "CHALLENGE_REQUIRED" || code === "CHALLENGE_FAILED") && !reproved) {
        // The answer expired, was spent, or the app turned its gate on meanwhile: one fresh check.
        reproved = true;
        busy.lastChild!.textContent = this.o.texts.checking;
        this.prove();
        continue;
      }
      if (code === "POOL_EXHAUSTED" && attempt < RETRIES) {
        tab?.close();
        for (let left = after; left > 0; left -= 1) {
          busy.lastChild!.textContent = fill(this.o.texts.busy, { n: left });
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        continue;
      }
      tab?.close();
      this.emit("error", { code });
      if (response.status === 401 || response.status === 403) console.error(`Try It Now: ${String(body.error ?? code)}`);
      const texts = this.o.texts;
      const text =
        code === "CHALLENGE_REQUIRED" || code === "CHALLENGE_FAILED"
          ? texts.checkFailed
          : code === "BLOCKED"
            ? texts.denied
            : code === "POOL_EXHAUSTED"
              ? texts.busyEnd
              : code === "RATE_LIMITED"
                ? fill(texts.limited, { t: wait(after) })
                : code === "APP_PAUSED"
                  ? texts.paused
                  : code === "NOT_FOUND"
                    ? texts.missing
                    : response.status === 401 || response.status === 403
                      ? texts.refused
                      : texts.failed;
      return this.message(text);
    }
  }

  private say(text: string): void {
    this.live.textContent = text;
  }

  /** The session panel: time left, Open, Extend, End. */
  private running(): void {
    const s = this.session!;
    const t = this.o.texts;
    const ttl = el("span", { class: "ttl", "data-testid": "ttl" });
    const open = el(
      "a",
      { class: "b", part: "button", href: s.url, target: "_blank", rel: "noopener", "data-testid": "instance-url" },
      t.open,
    );
    if (this.o.open === "modal") {
      open.addEventListener("click", (event) => {
        event.preventDefault();
        this.modal();
      });
    }
    const extend = this.button(fill(t.extend, { n: s.extendMinutes }), () => void this.extend(extend), true);
    const end = this.button(t.end, () => this.confirmEnd(), true);
    const over = this.button(t.startOver, () => this.startOver(), true);
    over.setAttribute("title", t.startOverHelp);
    const note = el("p", { class: "m" });
    const panel = el(
      "div",
      { class: "p", part: "panel" },
      el("p", { class: "m" }, t.running),
      el("p", {}, ttl, " ", el("span", { class: "m" }, t.left)),
      ...(s.credentials ? [this.signIn(s.credentials)] : []),
      el("div", { class: "row" }, open, extend, over, end),
      note,
    );
    this.show(panel);
    const tick = () => {
      const left = s.expiresAt - Date.now();
      for (const node of this.root.querySelectorAll("[data-testid=ttl]")) node.textContent = mmss(left);
      const reason =
        s.extensions >= s.maxExtensions ? t.noMoreExt : s.expiresAt + s.extendMinutes * 60_000 > s.maxExpiresAt ? t.longest : "";
      for (const button of this.root.querySelectorAll<HTMLButtonElement>("[data-extend]")) button.disabled = Boolean(reason);
      extend.disabled = Boolean(reason);
      note.textContent = reason || this.hint;
      const minute = Math.ceil(left / 60_000);
      if (minute !== this.lastMinute && left > 0) {
        this.lastMinute = minute;
        this.say(minute === 1 ? t.minuteLeft : fill(t.minutesLeft, { n: minute }));
      }
      if (left <= 0) this.finish(true);
    };
    extend.setAttribute("data-extend", "");
    tick();
    clearInterval(this.timer);
    this.timer = window.setInterval(tick, 1000);
    this.follow();
  }

  /** The visitor's user name and password for the app, each with a copy button, and its sign-in page. */
  private signIn(credentials: NonNullable<Session["credentials"]>): HTMLElement {
    const t = this.o.texts;
    const line = (label: string, value: string, testId: string) => {
      const copy = this.button(t.copy, () => void this.copy(value, copy), true);
      copy.setAttribute("aria-label", `${t.copy} ${label.toLowerCase()}`);
      return [el("span", { class: "m" }, label), el("code", { "data-testid": testId }, value), copy];
    };
    const page = el(
      "a",
      { href: credentials.login_url, target: "_blank", rel: "noopener", "data-testid": "login-url" },
      t.signInPage,
    );
    return el(
      "div",
      { class: "cred", role: "group", "aria-label": t.signIn },
      el("p", { class: "m" }, t.signIn, " · ", page),
      el(
        "div",
        { class: "grid" },
        ...line(t.user, credentials.username, "username"),
        ...line(t.password, credentials.password, "password"),
      ),
    );
  }

  private async copy(value: string, button: HTMLButtonElement): Promise<void> {
    try {
      await navigator.clipboard.writeText(value);
      button.textContent = this.o.texts.copied;
      this.say(this.o.texts.copied);
      setTimeout(() => {
        button.textContent = this.o.texts.copy;
      }, 1500);
    } catch {
      // no clipboard here (an insecure page, a denied permission): the value is on screen to select
    }
  }

  /**
   * Start over: the demo is released and a fresh one taken from the pool in the same click (the
   * release is not waited for, so a new tab still opens inside the click).
   */
  private startOver(): void {
    const s = this.session;
    if (!s) return;
    void this.call("DELETE", `/demo/${s.id}`).catch(() => undefined);
    this.emit("ended", { id: s.id });
    this.forget();
    void this.start();
  }

  /** The status stream keeps the time in step with other tabs and the server; polling when it is refused. */
  private follow(): void {
    const s = this.session;
    if (!s || this.source || this.poll) return;
    const query = new URLSearchParams({ token: s.token, ...(this.o.key ? { key: this.o.key } : {}) });
    const source = new EventSource(`${this.o.base}/api/v1/demo/${s.id}/status?${query}`);
    this.source = source;
    source.addEventListener("ttl", (event) => {
      const data = JSON.parse((event as MessageEvent).data) as { ttl_remaining: number };
      const expiresAt = Date.now() + data.ttl_remaining * 1000;
      if (Math.abs(expiresAt - s.expiresAt) > 1500) s.expiresAt = expiresAt;
    });
    source.addEventListener("expired", () => this.finish(true));
    source.addEventListener("error", () => {
      // A dropped stream reconnects by itself; a refused one (closed) is replaced by polling.
      if (source.readyState !== EventSource.CLOSED) return;
      this.source = null;
      this.poll = window.setInterval(() => void this.refresh(), POLL_MS);
    });
  }

  private async refresh(): Promise<boolean> {
    const s = this.session;
    if (!s) return false;
    try {
      const response = await this.call("GET", `/demo/${s.id}`);
      if (response.status === 404) {
        this.finish(true);
        return false;
      }
      if (response.ok) {
        const next = sessionOf(await response.json(), s.token);
        Object.assign(s, next);
        this.save();
      }
    } catch {
      // offline for a moment: the local countdown goes on
    }
    return true;
  }

  private async extend(button: HTMLButtonElement): Promise<void> {
    const s = this.session;
    if (!s) return;
    button.disabled = true;
    try {
      const response = await this.call("POST", `/demo/${s.id}/extend`, {});
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (response.ok) {
        s.expiresAt = Date.parse(String(body.expires_at));
        s.extensions = Number(body.extensions ?? s.extensions + 1);
        this.save();
        this.hint = "";
        this.emit("extended", { id: s.id, expires_at: body.expires_at });
      } else if (response.status === 404) this.finish(true);
      else if (body.code === "NOT_VISITED") {
        // The app extends only demos that were opened: open it, then extend (the button stays).
        this.hint = this.o.texts.openFirst;
        this.say(this.hint);
        this.emit("error", { code: "NOT_VISITED" });
      } else {
        const details = (body.details ?? {}) as { limit?: string };
        if (details.limit === "max_extensions") s.extensions = s.maxExtensions;
        else s.maxExpiresAt = Math.min(s.maxExpiresAt, s.expiresAt);
        this.emit("error", { code: String(body.code ?? response.status) });
      }
    } catch {
      this.emit("error", { code: "NETWORK" });
    }
    button.disabled = false;
  }

  private confirmEnd(): void {
    const t = this.o.texts;
    const keep = this.button(t.endNo, () => this.running(), true);
    const panel = el(
      "div",
      { class: "p", part: "panel", role: "alertdialog", "aria-label": t.end },
      el("p", {}, t.endAsk),
      el(
        "div",
        { class: "row" },
        this.button(t.endYes, () => void this.end()),
        keep,
      ),
    );
    this.show(panel);
    keep.focus();
  }

  /** Ends the running demo now (releases it). */
  async end(): Promise<void> {
    const s = this.session;
    if (!s) return;
    try {
      await this.call("DELETE", `/demo/${s.id}`);
    } catch {
      // it expires on its own; the visitor asked to end it, so it is forgotten here
    }
    this.emit("ended", { id: s.id });
    this.finish(false);
  }

  /** Drops the running demo from this page and from storage. */
  private forget(): void {
    this.session = null;
    clearInterval(this.timer);
    clearInterval(this.poll);
    this.poll = 0;
    this.source?.close();
    this.source = null;
    this.overlay?.remove();
    this.overlay = null;
    this.lastMinute = -1;
    try {
      localStorage.removeItem(this.storeKey);
    } catch {
      // storage unavailable: nothing was kept
    }
  }

  private finish(expired: boolean): void {
    const s = this.session;
    if (!s) return;
    this.forget();
    if (expired) this.emit("expired", { id: s.id });
    const t = this.o.texts;
    const panel = el("div", { class: "p", part: "panel", role: "status" }, el("p", {}, t.ended));
    const row = el("div", { class: "row" });
    if (s.cta) row.append(el("a", { class: "b", part: "button cta", href: s.cta.url, target: "_top" }, s.cta.label));
    row.append(this.button(t.again, () => void this.start(), Boolean(s.cta)));
    panel.append(row);
    this.show(panel);
    this.say(t.ended);
  }

  private reveal(): void {
    if (this.o.open === "modal") this.modal();
    else if (this.session) window.open(this.session.url, "_blank", "noopener");
  }

  /** The demo in a full-viewport frame over the page (the app must allow being framed). */
  private modal(): void {
    const s = this.session;
    if (!s || this.overlay) return;
    const t = this.o.texts;
    const close = this.button(
      t.close,
      () => {
        this.overlay?.remove();
        this.overlay = null;
      },
      true,
    );
    const extend = this.button(fill(t.extend, { n: s.extendMinutes }), () => void this.extend(extend), true);
    extend.setAttribute("data-extend", "");
    const overlay = el(
      "div",
      { class: "ov", part: "overlay", role: "dialog", "aria-modal": "true", "aria-label": t.running },
      el(
        "header",
        {},
        el("span", { class: "ttl", "data-testid": "ttl" }, mmss(s.expiresAt - Date.now())),
        extend,
        this.button(
          t.end,
          () => {
            close.click();
            this.confirmEnd();
          },
          true,
        ),
        close,
      ),
      el("iframe", { src: s.url, title: t.running, allow: "clipboard-write" }),
    );
    overlay.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close.click();
    });
    this.overlay = overlay;
    this.box.parentElement!.append(overlay);
    close.focus();
  }

  private save(): void {
    try {
      localStorage.setItem(this.storeKey, JSON.stringify(this.session));
    } catch {
      // storage unavailable: the session lives as long as the page
    }
  }

  /** A reload, or another tab of the site, picks up the running demo; an ended one is forgotten. */
  private async restore(): Promise<void> {
    let saved: Session | null = null;
    try {
      saved = JSON.parse(localStorage.getItem(this.storeKey) ?? "null") as Session | null;
    } catch {
      return;
    }
    if (!saved?.id || !saved.token || saved.expiresAt <= Date.now()) {
      if (saved) localStorage.removeItem(this.storeKey);
      return;
    }
    try {
      const response = await fetch(`${this.o.base}/api/v1/demo/${saved.id}`, {
        headers: { "x-instance-token": saved.token, ...(this.o.key ? { "x-api-key": this.o.key } : {}) },
        credentials: "omit",
      });
      if (response.status === 404) {
        localStorage.removeItem(this.storeKey);
        return;
      }
      if (!response.ok || this.session) return;
      this.session = sessionOf(await response.json(), saved.token);
      this.running();
    } catch {
      // unreachable now: the button stays, the saved session is tried again on the next load
    }
  }
}
