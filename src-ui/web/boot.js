// Starts the web build: loads the wasm UI (with the engine in it) and
// registers the service worker that keeps the app shell for offline use.
// Kept out of index.html so the CSP needs no inline script. `__VERSION__`
// is the build's content hash, written in by `cargo xtask ui`: a new build
// has new URLs, so no cache can mix two builds' JS and wasm.
import init from "./mostrador_ui.js?v=__VERSION__";

init({ module_or_path: "./mostrador_ui_bg.wasm?v=__VERSION__" }).catch((err) => {
  document.body.setAttribute("data-boot-error", String(err));
  document.body.textContent = "Mostrador could not start: " + err;
});

if ("serviceWorker" in navigator) {
  // After the page has loaded, so the worker's copy of the shell does not
  // compete with the first open.
  addEventListener("load", () => {
    navigator.serviceWorker
      .register("sw.js", { scope: "./" })
      .catch((err) => console.warn("Mostrador: no offline copy of the app:", err));
  });
}
