// "Notify me in this browser" (templates/outages/_push_button.html).
// Nothing happens before the visitor clicks: no permission prompt, no
// service worker registration. On the click: ask permission, register the
// service worker (/sw.js, whole-site scope), subscribe with our VAPID key and
// send the subscription to the server. A second click turns it off.
(function () {
  "use strict";
  var box = document.getElementById("push");
  if (!box) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
  var button = box.querySelector(".push__button");
  var status = box.querySelector(".push__status");
  var data = box.dataset;
  var following = false;

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function show(on, text) {
    following = on;
    button.textContent = on ? data.labelOff : data.labelOn;
    button.setAttribute("aria-pressed", on ? "true" : "false");
    status.textContent = text || "";
  }

  // The browser's existing subscription, without registering anything.
  function existing() {
    return navigator.serviceWorker.getRegistration("/").then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    });
  }

  function turnOn() {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        show(false, data.textDenied);
        return;
      }
      return navigator.serviceWorker
        .register(data.workerUrl, { scope: "/" })
        .then(function () { return navigator.serviceWorker.ready; })
        .then(function (registration) {
          return registration.pushManager.getSubscription().then(function (subscription) {
            return subscription || registration.pushManager.subscribe({
              userVisibleOnly: true,
              applicationServerKey: keyBytes(data.key),
            });
          });
        })
        .then(function (subscription) {
          return post(data.subscribeUrl, { subscription: subscription.toJSON(), area: data.area });
        })
        .then(function (state) { show(state.following, data.textOn); });
    });
  }

  function turnOff() {
    return existing().then(function (subscription) {
      if (!subscription) return show(false);
      return post(data.unsubscribeUrl, { endpoint: subscription.endpoint, area: data.area }).then(function (state) {
        // Following nothing any more: let the browser drop the subscription too.
        var done = state.areas.length ? Promise.resolve() : subscription.unsubscribe();
        return done.then(function () { show(false); });
      });
    });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    (following ? turnOff() : turnOn())
      .catch(function () { show(following, data.textFailed); })
      .then(function () { button.disabled = false; });
  });

  box.hidden = false;
  show(false);
  if (Notification.permission === "granted") {
    existing()
      .then(function (subscription) {
        if (!subscription) return;
        return post(data.stateUrl, { endpoint: subscription.endpoint, area: data.area }).then(function (state) {
          show(state.following);
        });
      })
      .catch(function () {});
  }
})();
