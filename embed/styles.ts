/**
 * The widget's styles, adopted by its shadow root (a constructable stylesheet: no <style> element,
 * so a host's strict style-src does not block it). Every rule sets what it needs instead of
 * inheriting it, so host CSS on the host element (`* { font: 2px serif }`) cannot reach inside.
 * Theming: --tin-color, --tin-text, --tin-radius, --tin-font, and ::part(button|panel|overlay).
 */
export const CSS = `
:host{display:inline-block;max-width:100%;vertical-align:middle}
.w{--c:var(--tin-color,#4f46e5);--t:var(--tin-text,#fff);--r:var(--tin-radius,8px);--bg:#fff;--fg:#0f172a;--mu:#475569;--ln:#e2e8f0;
all:initial;display:block;box-sizing:border-box;max-width:100%;font:400 15px/1.45 var(--tin-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);color:var(--fg);text-align:left}
.w *{box-sizing:border-box;font:inherit;letter-spacing:normal;text-transform:none}
.dark{--bg:#0f172a;--fg:#f1f5f9;--mu:#94a3b8;--ln:#334155}
@media (prefers-color-scheme:dark){.auto{--bg:#0f172a;--fg:#f1f5f9;--mu:#94a3b8;--ln:#334155}}
.w button,.w a.b{all:unset;box-sizing:border-box;display:inline-flex;align-items:center;gap:8px;padding:9px 16px;border-radius:var(--r);
background:var(--c);color:var(--t);font-weight:600;cursor:pointer;text-decoration:none;line-height:1.2}
.w button.s,.w a.s{background:transparent;color:var(--fg);box-shadow:inset 0 0 0 1px var(--ln);font-weight:500;padding:8px 14px}
.w button:focus-visible,.w a.b:focus-visible{outline:3px solid var(--c);outline-offset:2px}
.w button[disabled]{opacity:.55;cursor:not-allowed}
.p{display:block;padding:14px 16px;border-radius:var(--r);background:var(--bg);color:var(--fg);box-shadow:0 0 0 1px var(--ln),0 1px 3px rgb(0 0 0/.08);max-width:480px}
.p p{display:block;margin:0 0 8px}
.m{color:var(--mu);font-size:13px}
.ttl{font:600 22px/1.2 ui-monospace,SFMono-Regular,Menlo,monospace;color:var(--fg)}
.row{display:flex;flex-wrap:wrap;gap:8px;margin-top:10px}
.err{color:#be123c}
.cred{display:block;margin:8px 0 4px;padding:10px 12px;border-radius:var(--r);box-shadow:inset 0 0 0 1px var(--ln)}
.cred p{margin:0 0 6px}
.cred a{color:var(--c);text-decoration:underline}
.cred .grid{display:grid;grid-template-columns:auto minmax(0,1fr) auto;gap:6px 10px;align-items:center}
.cred code{font:500 14px/1.3 ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere;user-select:all}
.cred button.s{padding:4px 10px;font-size:13px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.spin{display:inline-block;width:14px;height:14px;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:r .8s linear infinite}
@keyframes r{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.spin{animation:none;border-right-color:currentColor;opacity:.6}}
.ov{position:fixed;inset:0;z-index:2147483647;display:flex;flex-direction:column;background:var(--bg);color:var(--fg)}
.ov header{display:flex;flex-wrap:wrap;align-items:center;gap:8px;padding:8px 12px;border-bottom:1px solid var(--ln)}
.ov header .ttl{font-size:16px;margin-right:auto}
.ov iframe{flex:1;width:100%;border:0;background:#fff}
`;
