// A click hands the text to the Rust side (`say`); a `line` event from it
// appends the text to the list, where the bench's MutationObserver sees it.
const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;
document.getElementById("send").addEventListener("click", () => {
  invoke("say", { text: document.getElementById("text").value });
});
listen("line", (event) => {
  const line = document.createElement("li");
  line.dataset.testid = "message-body";
  line.textContent = event.payload;
  document.getElementById("thread").append(line);
});
