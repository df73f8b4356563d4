// The lists page: filter the people checkboxes as one types, and show only
// the people of the account chosen (without JavaScript, every account's
// people are shown and only the chosen account's ticks are used).
"use strict";
for (const form of document.querySelectorAll(".list-form")) {
  const sets = form.querySelectorAll("fieldset.members");
  const show = () => {
    const chosen = form.querySelector("input[name=account]:checked");
    for (const set of sets) set.hidden = chosen !== null && set.dataset.account !== chosen.value;
  };
  for (const radio of form.querySelectorAll("input[name=account]")) radio.addEventListener("change", show);
  show();
  for (const search of form.querySelectorAll(".member-search")) {
    search.addEventListener("input", () => {
      const words = search.value.trim().toLowerCase();
      for (const li of search.closest("fieldset").querySelectorAll("ul.people li")) {
        li.hidden = words !== "" && !li.textContent.toLowerCase().includes(words);
      }
    });
  }
}
