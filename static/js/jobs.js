// The jobs panel of a collection page (templates/documents/_jobs.html). While a job is queued or
// running, ask the server for the panel again every few seconds and show it; once none is left
// running, reload the page so its document list shows what was imported (unless files are chosen for
// the next upload: then the finished panel is shown and the list waits). Without JavaScript the
// panel is right as of the last page load.
"use strict";

const POLL_MS = 2000;
const RETRY_MS = 10000; // after a network error: the server may be restarting

function watch(panel) {
  if (!panel.hasAttribute("data-active")) return;
  setTimeout(() => refresh(panel), POLL_MS);
}

async function refresh(panel) {
  let data;
  try {
    const response = await fetch(panel.dataset.url, { headers: { Accept: "application/json" } });
    if (!response.ok) return; // signed out, or no longer an editor: the next page load says so
    data = await response.json();
  } catch {
    setTimeout(() => refresh(panel), RETRY_MS);
    return;
  }
  // Reloading would drop files chosen for the next upload: then show the finished panel instead.
  if (!data.active && !filesChosen()) {
    window.location.reload();
    return;
  }
  const template = document.createElement("template");
  template.innerHTML = data.html.trim(); // rendered and escaped by the server's template
  const fresh = template.content.firstElementChild;
  panel.replaceWith(fresh);
  watch(fresh);
}

function filesChosen() {
  return [...document.querySelectorAll('input[type="file"]')].some((input) => input.files.length > 0);
}

document.querySelectorAll("#jobs").forEach(watch);
