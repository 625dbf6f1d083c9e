// The service worker for browser notifications, served at /sw.js (whole-site
// scope). It shows the notification a push brings and opens the page on a
// click, and does nothing else: no caching, no offline copies of the status
// (they would be stale).
"use strict";

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || self.location.host, {
      body: data.body || "",
      tag: data.tag,
      lang: data.lang,
      dir: data.dir || "auto",
      data: { url: data.url || "/" },
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  // Only a page of this site: the path of the URL the message names.
  var named = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  var url = new URL(named.pathname + named.search, self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === url && "focus" in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow(url);
    })
  );
});
