// ragchat chat page: streaming answers, stop, Enter to send, copy buttons, in-place feedback.
// Every feature here is an enhancement: without JavaScript the same forms post and redirect.
"use strict";

document.documentElement.classList.add("js");

const csrfToken = () => document.querySelector("[name=csrfmiddlewaretoken]")?.value || "";

function messageFromHtml(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  const article = template.content.firstElementChild;
  enhance(article);
  return article;
}

function streamingArticle(question) {
  const article = document.createElement("article");
  article.className = "message streaming";
  const asked = document.createElement("div");
  asked.className = "question";
  asked.innerHTML = '<span class="who">You</span><p></p>';
  asked.querySelector("p").textContent = question; // text, never HTML
  const answer = document.createElement("div");
  answer.className = "answer";
  answer.innerHTML = '<span class="who">ragchat</span><div class="answer-text live" role="status" aria-live="polite" aria-busy="true"></div>';
  article.append(asked, answer);
  return article;
}

// Read newline-delimited JSON events from a streamed response.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) onEvent(JSON.parse(line));
    }
  }
}

// Replace an article with its stored state, as the server now has it.
async function refreshMessage(url, article) {
  const response = await fetch(url, { headers: { Accept: "text/html" } });
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const stored = page.querySelector(`#${article.id}`);
  if (stored) {
    enhance(stored);
    article.replaceWith(stored);
  }
}

// The server refused the question (too long, too many questions, ...): show its reason in place
// and give the question back to the text box, so nothing typed is lost.
async function showRefusal(response, form, article) {
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const shown = page.querySelector("#question-error") ?? page.querySelector("[role=alert]");
  const reason = shown?.textContent?.trim();
  const question = article.querySelector(".question p")?.textContent ?? "";
  article.querySelector(".answer").replaceChildren();
  const error = document.createElement("p");
  error.className = "error";
  error.setAttribute("role", "alert");
  error.textContent = reason || `The question could not be sent (HTTP ${response.status}). Please try again.`;
  article.querySelector(".answer").append(error);
  const textarea = form.querySelector("textarea");
  if (textarea && !textarea.value) textarea.value = question;
}

async function streamAnswer(form, article, { onDone } = {}) {
  const controller = new AbortController();
  const stop = document.querySelector("[data-stop]");
  const send = document.querySelector("[data-send]");
  const live = article.querySelector(".live");
  let messageUrl = null;
  stop.hidden = false;
  send.disabled = true;
  stop.onclick = () => controller.abort();
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/x-ndjson", "X-CSRFToken": csrfToken() },
      signal: controller.signal,
    });
    if (!response.ok || !response.headers.get("Content-Type")?.includes("ndjson")) {
      await showRefusal(response, form, article);
      return;
    }
    await readEvents(response, (event) => {
      if (event.type === "start") {
        article.id = `message-${event.message_id}`;
        messageUrl = event.url;
        // This id is now stored: the next question needs a new one, or it would count as a resubmission.
        if (form.elements.submission_id) form.elements.submission_id.value = event.next_submission_id;
      } else if (event.type === "delta") {
        live.textContent += event.text;
      } else if (event.type === "error") {
        // The answer could not be recorded (the database went away): say so where it was streaming.
        live.setAttribute("aria-busy", "false");
        live.insertAdjacentHTML("afterend", '<p class="error" role="alert"></p>');
        live.nextElementSibling.textContent = event.text;
      } else if (event.type === "done") {
        const finished = messageFromHtml(event.html);
        // Only the newest answer can be regenerated: drop the button from the earlier ones.
        document.querySelectorAll("form[data-stream-regenerate]").forEach((form) => form.remove());
        article.replaceWith(finished);
        finished.querySelector(".answer")?.focus?.();
        if (onDone) onDone(messageUrl);
      }
    });
  } catch (error) {
    live.setAttribute("aria-busy", "false");
    live.insertAdjacentHTML("afterend", '<p class="error" role="alert"></p>');
    live.nextElementSibling.textContent =
      error.name === "AbortError" ? "Stopped. What arrived so far is kept." : "The connection was lost while answering.";
    if (messageUrl) setTimeout(() => refreshMessage(messageUrl, article), 1200);
  } finally {
    stop.hidden = true;
    send.disabled = false;
  }
}

function setUpAskForm(form) {
  const textarea = form.querySelector("textarea");
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    const question = textarea.value.trim();
    if (!question) return; // the server explains what is missing
    event.preventDefault();
    const list = document.querySelector("[data-messages]");
    list.querySelector("[data-empty]")?.remove();
    const article = streamingArticle(question);
    list.append(article);
    const onList = !form.action.includes("/ask/");
    streamAnswer(form, article, {
      onDone: (url) => (onList ? window.location.assign(url) : null),
    });
    textarea.value = "";
  });
}

function enhance(root) {
  root.querySelectorAll("form[data-stream-regenerate]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const article = form.closest("article");
      const question = article.querySelector(".question p").textContent;
      const placeholder = streamingArticle(question);
      placeholder.id = article.id;
      article.replaceWith(placeholder);
      streamAnswer(form, placeholder);
    });
  });
  root.querySelectorAll("form[data-fragment]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = new FormData(form);
      if (event.submitter?.name) body.set(event.submitter.name, event.submitter.value);
      const response = await fetch(form.action, {
        method: "POST",
        body,
        headers: { "X-Fragment": "message", "X-CSRFToken": csrfToken() },
      });
      form.closest("article").replaceWith(messageFromHtml(await response.text()));
    });
  });
  root.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", () => copy(button, button.closest("article").querySelector("[data-answer-text]").innerText));
  });
  root.querySelectorAll("[data-answer-text] pre").forEach((pre) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary copy-code";
    button.textContent = "Copy code";
    button.addEventListener("click", () => copy(button, pre.querySelector("code")?.innerText || pre.innerText));
    pre.before(button);
  });
}

async function copy(button, text) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => (button.textContent = button.classList.contains("copy-code") ? "Copy code" : "Copy"), 1500);
}

document.querySelectorAll("form[data-stream]").forEach(setUpAskForm);
enhance(document);
