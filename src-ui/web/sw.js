// The web app's service worker: keeps the app shell (page, JS, wasm, CSS,
// manifest, icon) so the app opens with no network. Data never goes
// through it: the engine keeps it in IndexedDB, and requests outside the
// worker's scope (/app/), such as /api/, pass untouched.
//
// `__VERSION__` is the build's content hash (written in by `cargo xtask
// ui`), so a new build on the server is a new sw.js: the browser installs
// it next to the old one, it fetches the new shell into a cache of its
// own, takes over, and drops the old caches. The page opens from the
// cache (fast, and the same offline); a new build shows on the next open.
const VERSION = "__VERSION__";
const CACHE = "mostrador-shell-" + VERSION;
const SHELL = [
  "./",
  "boot.js?v=" + VERSION,
  "mostrador_ui.js?v=" + VERSION,
  "mostrador_ui_bg.wasm?v=" + VERSION,
  "style.css?v=" + VERSION,
  "manifest.webmanifest",
  "assets/icon.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith("mostrador-shell-") && k !== CACHE)
            .map((k) => caches.delete(k)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  // Any page of the app (`/app/?embed=1&lang=es` too) is the one shell.
  const key = request.mode === "navigate" ? "./" : request;
  event.respondWith(
    caches
      .open(CACHE)
      .then((cache) => cache.match(key))
      .then((hit) => hit || fetch(request)),
  );
});
