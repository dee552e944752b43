// Loads the wasm UI. Kept out of index.html so the CSP needs no inline script.
import init from "./mostrador_ui.js";
init().catch((err) => {
  document.body.setAttribute("data-boot-error", String(err));
  document.body.textContent = "Mostrador could not start: " + err;
});
