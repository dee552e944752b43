// Loads the wasm UI. Kept out of index.html so the CSP needs no inline script.
import init from "./mostrador_ui.js";
init();
