/*! Mostrador widget: an "Ask a question" launcher for shop pages.
 * <script src="https://SUPPORT-SERVER/widget.js" data-identity="<signed JWT>" async></script>
 * API: Mostrador.open({order}), Mostrador.close(), Mostrador.identify(jwt).
 * The app is loaded (an iframe from the support server) only when first opened. */
(function () {
  "use strict";
  var prior = window.Mostrador;
  if (prior && prior.version) return; // loaded twice
  var script = document.currentScript;
  var server = new URL(script ? script.src : "/", location.href).origin;
  var settings = window.MostradorSettings || {};
  var identity = (script && script.getAttribute("data-identity")) || settings.identity || null;
  var tag = (document.documentElement.lang || "en").slice(0, 2).toLowerCase();
  var lang = tag === "es" || tag === "ru" ? tag : "en";
  var T = {
    en: { ask: "Ask a question", close: "Close", panel: "Support chat",
      unread: function (n) { return n === 1 ? "1 unread message" : n + " unread messages"; } },
    es: { ask: "Hacer una pregunta", close: "Cerrar", panel: "Chat de soporte",
      unread: function (n) { return n === 1 ? "1 mensaje sin leer" : n + " mensajes sin leer"; } },
    ru: { ask: "Задать вопрос", close: "Закрыть", panel: "Чат поддержки",
      unread: function (n) {
        var f = new Intl.PluralRules("ru").select(n);
        return n + (f === "one" ? " непрочитанное сообщение" : f === "few" ? " непрочитанных сообщения" : " непрочитанных сообщений");
      } }
  }[lang];

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font:15px/1.3 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    "button{cursor:pointer;border:0;margin:0}",
    "button:focus-visible{outline:3px solid #fff;box-shadow:0 0 0 6px #0b57d0}",
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;min-width:44px;min-height:48px;",
    "display:flex;align-items:center;gap:8px;padding:12px 18px;border-radius:24px;background:#0f766e;color:#fff;",
    "font-weight:600;box-shadow:0 0 0 2px #fff,0 4px 14px rgba(0,0,0,.35)}",
    ".launcher:hover{background:#115e59}",
    ".launcher svg{width:20px;height:20px;fill:currentColor;flex:none}",
    ".badge{min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b3001b;color:#fff;",
    "font-size:13px;font-weight:700;line-height:22px;text-align:center;box-shadow:0 0 0 2px #fff}",
    ".badge[hidden],.launcher[hidden],.panel[hidden],.bar[hidden]{display:none}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".panel{position:fixed;z-index:2147483001;top:0;right:0;bottom:0;width:400px;max-width:100vw;display:flex;",
    "flex-direction:column;background:#fff;color:#111;box-shadow:-4px 0 24px rgba(0,0,0,.3)}",
    ".bar{display:flex;align-items:center;justify-content:space-between;padding:0 4px 0 16px;min-height:48px;",
    "background:#0f766e;color:#fff;font-weight:600}",
    ".x{min-width:44px;min-height:44px;background:transparent;color:#fff;font-size:24px;line-height:1;border-radius:8px}",
    ".x:hover{background:rgba(255,255,255,.15)}",
    "iframe{flex:1;width:100%;border:0;background:#fff}",
    "@media (max-width:599.98px){.panel{width:100vw;height:100dvh;box-shadow:none}}",
    "@media (forced-colors:active){.launcher,.badge,.bar{border:2px solid ButtonText}}",
    "@media (prefers-color-scheme:dark){.panel,iframe{background:#111}}"
  ].join("");

  var host = document.createElement("div");
  host.setAttribute("data-mostrador", "");
  var root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
  }

  function el(name, attrs, parent) {
    var e = document.createElement(name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false",
    "aria-haspopup": "dialog" }, root);
  launcher.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
  el("span", {}, launcher).textContent = T.ask;
  var badge = el("span", { class: "badge", "aria-hidden": "true", hidden: "" }, launcher);
  var unreadText = el("span", { class: "sr" }, launcher);

  var panel, bar, frame, ready = false, pending = [], unread = 0;

  function post(msg) {
    if (frame && ready) frame.contentWindow.postMessage(msg, server);
    else pending.push(msg);
  }

  function build() {
    panel = el("div", { class: "panel", role: "dialog", "aria-label": T.panel, hidden: "" }, root);
    panel.id = "mostrador-panel";
    launcher.setAttribute("aria-controls", panel.id);
    // Until the app is up (it has its own Close), a bar to close the panel.
    bar = el("div", { class: "bar" }, panel);
    el("span", {}, bar).textContent = T.panel;
    var x = el("button", { type: "button", class: "x", "aria-label": T.close }, bar);
    x.textContent = "\u00d7";
    x.addEventListener("click", close);
    frame = el("iframe", { title: T.panel, src: server + "/app/?embed=1&lang=" + lang,
      referrerpolicy: "origin", allow: "clipboard-write" }, panel);
    if (identity) pending.unshift({ type: "mostrador:identity", identity: identity });
  }

  function open(options) {
    if (!panel) build();
    post({ type: "mostrador:open", order: (options && options.order) || undefined });
    if (!panel.hidden) return;
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    frame.focus();
  }

  function close() {
    if (!panel || panel.hidden) return;
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function setUnread(n) {
    unread = Math.max(0, n | 0);
    badge.hidden = unread === 0;
    badge.textContent = unread > 99 ? "99+" : String(unread);
    unreadText.textContent = unread ? ", " + T.unread(unread) : "";
  }

  launcher.addEventListener("click", function () { open(); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && panel && !panel.hidden) close();
  });
  window.addEventListener("message", function (e) {
    if (e.origin !== server || !frame || e.source !== frame.contentWindow) return;
    var m = e.data || {};
    if (m.type === "mostrador:ready") {
      ready = true;
      bar.hidden = true;
      var queue = pending;
      pending = [];
      queue.forEach(post);
    } else if (m.type === "mostrador:unread") {
      setUnread(m.count);
    } else if (m.type === "mostrador:close") {
      close();
    }
  });

  window.Mostrador = {
    version: 1,
    open: open,
    close: close,
    identify: function (jwt) {
      identity = jwt;
      if (frame) post({ type: "mostrador:identity", identity: jwt });
    }
  };
  if (document.body) document.body.appendChild(host);
  else document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(host); });
  // Calls queued before the script loaded: window.Mostrador = {q: [["open", {order}]]}.
  if (prior && prior.q && prior.q.forEach) {
    prior.q.forEach(function (c) { var f = window.Mostrador[c[0]]; if (f) f.apply(null, [].slice.call(c, 1)); });
  }
})();
