// The upload form of the knowledge pages: files dropped on it are chosen as if picked, and the
// form is sent in the background to show a progress bar. Without this script it is a plain
// multipart form and works the same, without the bar.
(function () {
  "use strict";

  const form = document.querySelector("[data-upload-form]");
  if (!form) return;
  const input = form.querySelector('input[type="file"]');
  const zone = form.querySelector("[data-drop-zone]");
  const chosen = form.querySelector("[data-drop-list]");
  const bar = form.querySelector("[data-upload-progress]");
  const status = form.querySelector("[data-upload-status]");
  const button = form.querySelector('button[type="submit"]');
  form.querySelector("[data-drop-hint]").hidden = false;

  function showChosen() {
    const names = Array.from(input.files, (file) => file.name);
    chosen.textContent = names.length ? `Chosen: ${names.join(", ")}` : "";
  }

  function fail(message) {
    button.disabled = false;
    bar.hidden = true;
    status.textContent = message;
  }

  input.addEventListener("change", showChosen);
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault(); // without it the browser opens the dropped file instead
      zone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (!event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    showChosen();
  });

  form.addEventListener("submit", (event) => {
    if (!input.files.length) return; // the browser says the field is required
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    // The view answers with the page to go to rather than a redirect, so its messages are shown
    // on that page instead of being spent on this request.
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (progress) => {
      if (!progress.lengthComputable) return;
      bar.value = Math.round((100 * progress.loaded) / progress.total);
      status.textContent = `Sending… ${bar.value} %`;
    });
    request.addEventListener("load", () => {
      let location = null;
      try {
        location = JSON.parse(request.responseText).location;
      } catch (error) {
        location = null;
      }
      if (request.status === 200 && location) {
        window.location.assign(location);
      } else {
        fail(`The upload failed (HTTP ${request.status}). Reload the page and try again, or send fewer files at once.`);
      }
    });
    request.addEventListener("error", () => fail("The upload was interrupted. Check the connection and try again."));
    bar.value = 0;
    bar.hidden = false;
    button.disabled = true;
    status.textContent = "Sending…";
    request.send(new FormData(form));
  });
})();
