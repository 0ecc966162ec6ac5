// The status page of tend: it reloads the services every few seconds and sends the
// operator commands of the buttons to the JSON API.
"use strict";

(function () {
  const refreshMillis = 5000;
  const main = document.getElementById("main");
  const message = document.getElementById("message");
  let refreshing = false;

  function show(text, isError) {
    message.textContent = text;
    message.className = isError ? "message error" : "message";
    message.hidden = false;
  }

  // openEvents returns the names of the services whose recent events are expanded,
  // so that a refresh keeps them open.
  function openEvents() {
    const names = new Set();
    main.querySelectorAll("article.service").forEach(function (el) {
      const details = el.querySelector("details.events");
      if (details && details.open) {
        names.add(el.dataset.service);
      }
    });
    return names;
  }

  async function refresh() {
    if (refreshing) {
      return;
    }
    refreshing = true;
    try {
      const response = await fetch("/fragment", { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) {
        show("refresh failed: HTTP " + response.status, true);
        return;
      }
      const html = await response.text();
      const open = openEvents();
      main.innerHTML = html;
      main.querySelectorAll("article.service").forEach(function (el) {
        const details = el.querySelector("details.events");
        if (details && open.has(el.dataset.service)) {
          details.open = true;
        }
      });
    } catch (err) {
      show("refresh failed: " + err.message, true);
    } finally {
      refreshing = false;
    }
  }

  // errorText returns the message of a failed response: the error field of a JSON
  // body, or the body itself.
  async function errorText(response) {
    const body = (await response.text()).trim();
    try {
      const parsed = JSON.parse(body);
      if (parsed && typeof parsed.error === "string") {
        return parsed.error;
      }
    } catch (ignored) {
      // The body is plain text.
    }
    return body;
  }

  // control sends one operator command to the JSON API and resolves to the HTTP
  // status, or 0 when the request failed before a response arrived.
  async function control(service, command) {
    let response;
    try {
      response = await fetch("/api/v1/control", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-Tend-Request": "1" },
        body: JSON.stringify({ command: command, target: service }),
      });
    } catch (err) {
      show(command + " " + service + " failed: " + err.message, true);
      return 0;
    }
    if (response.ok) {
      show(command + " " + service + ": accepted", false);
    } else {
      show(command + " " + service + " rejected (HTTP " + response.status + "): " + (await errorText(response)), true);
    }
    await refresh();
    return response.status;
  }

  main.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-command]");
    if (!button) {
      return;
    }
    button.disabled = true;
    control(button.dataset.service, button.dataset.command);
  });

  window.tend = { control: control, refresh: refresh };
  setInterval(refresh, refreshMillis);
})();
