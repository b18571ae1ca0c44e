// live-auth client: keeps this tab in step with the signed-in principal.
// Served by the adapter at {prefix}/live.js; include it with the tag that
// LivePage::script_tag renders. No build step, no dependencies.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var page = script.getAttribute("data-live-page");
  var base = new URL(script.src, location.href).pathname.replace(/\/live\.js$/, "");
  var scheme = location.protocol === "https:" ? "wss:" : "ws:";
  var url = scheme + "//" + location.host + base + "/live?page=" + encodeURIComponent(page);
  // An admin page watching another user names it; its regions follow them.
  var target = script.getAttribute("data-live-target");
  if (target) url += "&target=" + encodeURIComponent(target);
  var attempt = 0;
  var stopped = false;

  function apply(frame) {
    if (frame.type === "navigate") {
      stopped = true;
      location.assign(frame.to);
      return;
    }
    if (frame.type !== "update") return;
    var regions = frame.regions || {};
    Object.keys(regions).forEach(function (id) {
      var selector = '[data-live-region="' + CSS.escape(id) + '"]';
      document.querySelectorAll(selector).forEach(function (el) {
        el.innerHTML = regions[id];
      });
    });
    document.dispatchEvent(new CustomEvent("live-auth:update", { detail: frame }));
  }

  // After a connection that never opened, ask the page itself: if it now
  // redirects (signed out, expired), follow it; otherwise keep retrying.
  function probe() {
    return fetch(location.href, { credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          stopped = true;
          location.reload();
        }
      })
      .catch(function () {});
  }

  function connect() {
    var opened = false;
    var socket = new WebSocket(url);
    socket.onopen = function () {
      opened = true;
      attempt = 0;
      document.documentElement.setAttribute("data-live", "connected");
    };
    socket.onmessage = function (event) {
      try {
        apply(JSON.parse(event.data));
      } catch (error) {
        console.warn("live-auth: bad frame", error);
      }
    };
    socket.onclose = function () {
      document.documentElement.setAttribute("data-live", "disconnected");
      if (stopped) return;
      var delay = Math.min(10000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      var retry = function () { if (!stopped) connect(); };
      if (opened) {
        setTimeout(retry, delay);
      } else {
        probe().then(function () { setTimeout(retry, delay); });
      }
    };
  }

  // Forms marked data-live-submit post in the background: the live frame
  // that follows updates this tab like every other one, without a reload.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-live-submit")) return;
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      body: new URLSearchParams(new FormData(form)),
    }).then(function (response) {
      // Normally the live frame moves this tab; if the socket is down,
      // follow a redirect that leaves the page (e.g. after signing out).
      var target = new URL(response.url);
      if (response.redirected && target.pathname !== location.pathname) {
        setTimeout(function () { if (!stopped) location.assign(response.url); }, 300);
      }
    }).catch(function () {
      form.submit();
    });
  });

  connect();
})();
