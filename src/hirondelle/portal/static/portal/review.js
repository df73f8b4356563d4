// Select or deselect every account shown in one evidence group.
"use strict";

document.querySelectorAll("fieldset.group").forEach((group) => {
  const set = (value) => group.querySelectorAll("input[name=pick]").forEach((box) => { box.checked = value; });
  group.querySelector(".select-all").addEventListener("click", () => set(true));
  group.querySelector(".select-none").addEventListener("click", () => set(false));
});
