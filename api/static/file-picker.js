// The chosen files' names, in Chinese, beside a file picker whose native button is hidden: a browser labels its own
// button in its UI language ("Choose Files"), so the page draws its own (portal/messages.html). Without script the
// picker still works; only the names are not shown.
document.querySelectorAll("[data-file-picker]").forEach((picker) => {
  const input = picker.querySelector("input[type=file]");
  const names = picker.querySelector("[data-file-names]");
  if (!input || !names) return;
  input.addEventListener("change", () => {
    const files = Array.from(input.files || []);
    names.textContent = files.length
      ? `已选择${files.length}个文件：${files.map((f) => f.name).join("、")}`
      : names.dataset.empty;
  });
});
