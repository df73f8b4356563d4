// The review page: tick or untick every account of one evidence group, and
// never lose ticks silently: leaving with unsaved ticks asks first.
"use strict";

(() => {
  const form = document.getElementById("review-form");
  if (!form) return;
  let dirty = false;
  form.addEventListener("change", () => { dirty = true; });
  form.addEventListener("submit", () => { dirty = false; });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = form.dataset.unsaved;
  });
  form.querySelectorAll("fieldset.group").forEach((group) => {
    const set = (value) => {
      group.querySelectorAll("input[name=pick]").forEach((box) => { box.checked = value; });
      dirty = true;
    };
    group.querySelector(".select-all").addEventListener("click", () => set(true));
    group.querySelector(".select-none").addEventListener("click", () => set(false));
  });
})();
