// The outage map: area shapes drawn as SVG from one GeoJSON, coloured from the
// page's own list of areas (which the live push keeps current), selectable by
// mouse, touch and keyboard; "use my location" on request. No inline styles:
// everything visual is a class or an SVG attribute, so the strict CSP holds.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var TILE = 256;
  var TARGET_WIDTH = 1000;   // viewBox units across the whole map (about screen pixels)
  var root = document.getElementById("map");
  if (!root) return;
  var language = root.getAttribute("data-lang") || document.documentElement.lang;
  var langQuery = root.getAttribute("data-lang-query") || "";
  var svg = document.getElementById("map-svg");
  var shapesLayer = svg.querySelector(".map__shapes");
  var labelsLayer = svg.querySelector(".map__labels");
  var tilesLayer = svg.querySelector(".map__tiles");
  var message = document.getElementById("map-message");
  var areas = {};        // slug -> {path, label, name, url, x, y, status}
  var order = [];        // slugs in drawing order
  var zoom = 0, full = null, view = null, focused = null, selected = null;
  var drawn = false, domReady = false;
  // This script runs as soon as the map's markup is parsed (not deferred), so
  // the shapes can be fetched and drawn while the rest of the page loads.
  function pairs(attribute) {
    var out = {};
    (root.getAttribute(attribute) || "").split(" ").forEach(function (pair) {
      var at = pair.lastIndexOf(":");
      if (at > 0) out[pair.slice(0, at)] = pair.slice(at + 1);
    });
    return out;
  }
  var icons = pairs("data-icons");

  function say(text) { message.textContent = text || ""; message.hidden = !text; }

  // Web Mercator, in pixels at the chosen zoom: tiles line up for free.
  function project(lon, lat) {
    var scale = TILE * Math.pow(2, zoom);
    var sin = Math.sin(lat * Math.PI / 180);
    sin = Math.max(Math.min(sin, 0.9999), -0.9999);
    return [(lon + 180) / 360 * scale, (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * scale];
  }

  function rings(geometry) {
    return geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  }

  // The path and its bounding box in map units, from the projected points:
  // asking the browser (getBBox) would force a layout of the whole page.
  function pathData(geometry) {
    var out = [], x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    var scale = TILE * Math.pow(2, zoom), RAD = Math.PI / 180;
    rings(geometry).forEach(function (polygon) {
      polygon.forEach(function (ring) {
        var parts = [];
        for (var i = 0; i < ring.length - 1; i++) {
          // project(), inlined: this loop runs for every point of every area.
          var sin = Math.max(Math.min(Math.sin(ring[i][1] * RAD), 0.9999), -0.9999);
          var x = (ring[i][0] + 180) / 360 * scale, y = (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * scale;
          if (x < x0) x0 = x; if (x > x1) x1 = x;
          if (y < y0) y0 = y; if (y > y1) y1 = y;
          parts.push(Math.round(x * 10) / 10 + "," + Math.round(y * 10) / 10);
        }
        out.push("M" + parts.join("L") + "Z");
      });
    });
    return { d: out.join(""), box: [x0, y0, x1 - x0, y1 - y0] };
  }

  function chooseZoom(features) {
    var west = 180, east = -180, south = 90, north = -90;
    features.forEach(function (feature) {
      rings(feature.geometry).forEach(function (polygon) {
        polygon[0].forEach(function (p) {
          if (p[0] < west) west = p[0]; if (p[0] > east) east = p[0];
          if (p[1] < south) south = p[1]; if (p[1] > north) north = p[1];
        });
      });
    });
    var span = Math.max(east - west, (north - south) * 1.5, 0.001);
    zoom = Math.max(0, Math.min(18, Math.floor(Math.log(TARGET_WIDTH * 360 / (span * TILE)) / Math.LN2)));
    var a = project(west, north), b = project(east, south);
    var pad = Math.max(b[0] - a[0], b[1] - a[1]) * 0.03;
    return [a[0] - pad, a[1] - pad, b[0] - a[0] + 2 * pad, b[1] - a[1] + 2 * pad];
  }

  // The map's width on screen, read once and again only on resize: reading it
  // while shapes are being added would force a layout of the whole page.
  var width = 0;
  function mapWidth() { if (!width) width = svg.clientWidth; return width; }

  function setView(box) {
    view = box;
    svg.setAttribute("viewBox", box.map(function (n) { return n.toFixed(1); }).join(" "));
    // Patterns are in map units: scale them so they stay about 8 screen pixels.
    var perPixel = box[2] / Math.max(mapWidth() || TARGET_WIDTH, 1);
    svg.querySelectorAll("pattern").forEach(function (pattern) {
      pattern.setAttribute("patternTransform", "scale(" + perPixel.toFixed(3) + ")");
    });
    labelsLayer.setAttribute("font-size", (13 * perPixel).toFixed(2));
    labelsLayer.setAttribute("stroke-width", (2.5 * perPixel).toFixed(2));
    if (namesReady) showNames(perPixel);
    drawTiles();
  }

  // Names on the shapes where they fit (the shape at least as wide on screen
  // as its name, about 7 px a letter). Placed after the first paint, so
  // they never hold up the map itself.
  var namesReady = false;
  function showNames(perPixel) {
    order.forEach(function (slug) {
      var area = areas[slug];
      var fits = area.width / perPixel > area.name.length * 7 + 8;
      if (fits && !area.nameLabel) {
        area.nameLabel = document.createElementNS(SVG, "text");
        area.nameLabel.setAttribute("x", area.x.toFixed(1)); area.nameLabel.setAttribute("y", area.y.toFixed(1));
        area.nameLabel.setAttribute("class", "map-name");
        area.nameLabel.textContent = area.name;
        labelsLayer.appendChild(area.nameLabel);
      }
      if (area.nameLabel) {
        area.nameLabel.setAttribute("visibility", fits ? "visible" : "hidden");
        area.nameLabel.setAttribute("dy", (15 * perPixel).toFixed(2));
      }
    });
  }

  function placeNames() {
    namesReady = true;
    if (view) setView(view);
  }

  function drawTiles() {
    var template = root.getAttribute("data-tile-url");
    if (!template || !view) return;
    var perPixel = view[2] / Math.max(mapWidth() || TARGET_WIDTH, 1);
    var tileZoom = Math.max(0, Math.min(19, Math.round(zoom - Math.log(perPixel) / Math.LN2)));
    var size = TILE * Math.pow(2, zoom - tileZoom);  // one tile in map units
    var count = Math.pow(2, tileZoom);
    var x0 = Math.max(0, Math.floor(view[0] / size)), x1 = Math.min(count - 1, Math.floor((view[0] + view[2]) / size));
    var y0 = Math.max(0, Math.floor(view[1] / size)), y1 = Math.min(count - 1, Math.floor((view[1] + view[3]) / size));
    var fragment = document.createDocumentFragment();
    for (var x = x0; x <= x1; x++) {
      for (var y = y0; y <= y1; y++) {
        var image = document.createElementNS(SVG, "image");
        var href = template.replace("{z}", tileZoom).replace("{x}", x).replace("{y}", y).replace("{s}", "abc"[(x + y) % 3]);
        image.setAttribute("href", href);
        image.setAttribute("x", x * size); image.setAttribute("y", y * size);
        image.setAttribute("width", size); image.setAttribute("height", size);
        fragment.appendChild(image);
      }
    }
    tilesLayer.replaceChildren(fragment);
  }

  function mark(name) { if (window.performance && performance.mark) performance.mark(name); }

  function draw(collection) {
    mark("map-draw-start");
    var features = collection.features || [];
    if (!features.length) { say(root.getAttribute("data-text-failed")); return; }
    full = chooseZoom(features);
    mapWidth();
    var shapes = document.createDocumentFragment(), labels = document.createDocumentFragment();
    features.forEach(function (feature) {
      var slug = feature.id, props = feature.properties;
      var path = document.createElementNS(SVG, "path"), shape = pathData(feature.geometry);
      path.setAttribute("d", shape.d);
      path.setAttribute("class", "map-area map-area--operational");
      path.setAttribute("data-slug", slug);
      path.setAttribute("role", "button");
      path.setAttribute("tabindex", "-1");
      var point = project(props.label[0], props.label[1]);
      var label = document.createElementNS(SVG, "text");
      label.setAttribute("x", point[0].toFixed(1)); label.setAttribute("y", point[1].toFixed(1));
      label.setAttribute("class", "map-label map-label--operational");
      shapes.appendChild(path); labels.appendChild(label);
      var name = (props.names && props.names[language]) || props.name;
      path.setAttribute("aria-label", name);
      areas[slug] = { path: path, label: label, name: name, url: props.url + langQuery, x: point[0], y: point[1],
        box: shape.box, width: shape.box[2], status: "operational" };
      order.push(slug);
    });
    mark("map-built");
    shapesLayer.replaceChildren(shapes);
    labelsLayer.replaceChildren(labels);
    mark("map-inserted");
    setView(full);
    mark("map-viewed");
    var initial = pairs("data-statuses");
    Object.keys(initial).forEach(function (slug) { setStatus(slug, initial[slug]); });
    // The first view: the areas with the worst outage now (All areas is one click away).
    var rank = ["operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"];
    var worst = Object.keys(initial).reduce(function (top, slug) {
      return rank.indexOf(initial[slug]) > rank.indexOf(top) ? initial[slug] : top;
    }, "operational");
    if (worst !== "operational") {
      fitSlugs(Object.keys(initial).filter(function (slug) { return initial[slug] === worst; }), full[2] / 6);
    }
    mark("map-fitted");
    focusable(order[0]);
    say("");
    drawn = true;
    whenBoth();
    mark("map-drawn");
    // The frame after the next one has been painted: the map is on screen.
    requestAnimationFrame(function () { requestAnimationFrame(function () {
      mark("map-painted");
      root.setAttribute("data-painted", "");
      setTimeout(placeNames, 0);
    }); });
  }

  // Statuses come from the page's list of areas (#area-row-<slug>, class area-row--<status>).
  function sync() {
    document.querySelectorAll("#map-text [id^='area-row-']").forEach(function (row) {
      var slug = row.id.slice("area-row-".length), area = areas[slug];
      if (!area) return;
      var match = /\barea-row--(\S+)/.exec(row.className);
      var status = match ? match[1] : "operational";
      var badge = row.querySelector(".badge");
      var icon = row.querySelector(".badge__icon");
      var words = badge ? badge.textContent.replace(icon ? icon.textContent : "", "").trim() : status;
      area.path.setAttribute("aria-label", area.name + ": " + words);
      if (setStatus(slug, status) && slug === selected) loadCard(slug);
    });
  }

  function setStatus(slug, status) {
    var area = areas[slug];
    if (!area || area.status === status) return false;
    area.status = status;
    area.path.setAttribute("class", "map-area map-area--" + status + (slug === selected ? " is-selected" : ""));
    area.path.setAttribute("data-status", status);
    area.label.setAttribute("class", "map-label map-label--" + status);
    area.label.textContent = status === "operational" ? "" : (icons[status] || "!");
    return true;
  }

  // Once the shapes are drawn and the page (with its list of areas) is parsed.
  function whenBoth() {
    if (!drawn || !domReady) return;
    sync();
    buildRegionButtons();
    root.setAttribute("data-drawn", String(order.length));
  }

  var syncQueued = false;
  function queueSync() {
    if (syncQueued) return;
    syncQueued = true;
    requestAnimationFrame(function () { syncQueued = false; sync(); });
  }

  // Selection: the status card of the area, fetched from the same snapshot the area page gets.
  function loadCard(slug) {
    var card = document.getElementById("map-card");
    // The card in the page's language, its links keeping the page's ?lang= if it has one.
    var query = "?lang=" + encodeURIComponent(language) + (langQuery ? "&link=1" : "");
    fetch(root.getAttribute("data-snapshot-url") + encodeURIComponent(slug) + "/" + query, { headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        if (selected !== slug) return;
        var template = document.createElement("template");
        template.innerHTML = html;
        var status = template.content.querySelector(".status-card");
        if (!status) return;
        // Ids belong to the area page; here they would clash with the incident list.
        status.removeAttribute("aria-labelledby");
        [status].concat(Array.prototype.slice.call(status.querySelectorAll("[id]"))).forEach(function (node) { node.removeAttribute("id"); });
        card.replaceChildren(status);
        if (window.statusPage) window.statusPage.refreshTimes(card);
      })
      .catch(function () { /* the heading and the link are already there */ });
  }

  function select(slug) {
    var area = areas[slug];
    if (!area) return;
    if (selected && areas[selected]) areas[selected].path.classList.remove("is-selected");
    selected = slug;
    area.path.classList.add("is-selected");
    var box = document.getElementById("map-selection");
    document.getElementById("selection-heading").textContent = area.name;
    var link = document.getElementById("selection-link");
    link.setAttribute("href", area.url);
    document.getElementById("map-card").replaceChildren();
    box.hidden = false;
    loadCard(slug);
  }

  function focusable(slug) {
    if (!areas[slug]) return;
    if (focused && areas[focused]) areas[focused].path.setAttribute("tabindex", "-1");
    focused = slug;
    areas[slug].path.setAttribute("tabindex", "0");
  }

  function moveFocus(slug) {
    focusable(slug);
    var area = areas[slug];
    // Keep the focused area in view.
    if (area.x < view[0] || area.x > view[0] + view[2] || area.y < view[1] || area.y > view[1] + view[3]) {
      setView([area.x - view[2] / 2, area.y - view[3] / 2, view[2], view[3]]);
    }
    area.path.focus();
  }

  // Arrow keys go to the nearest area in that direction.
  function neighbour(slug, dx, dy) {
    var from = areas[slug], best = null, bestScore = Infinity;
    order.forEach(function (other) {
      if (other === slug) return;
      var to = areas[other];
      var along = (to.x - from.x) * dx + (to.y - from.y) * dy;
      if (along <= 0) return;
      var across = Math.abs((to.x - from.x) * dy - (to.y - from.y) * dx);
      var score = along + 2 * across;
      if (score < bestScore) { bestScore = score; best = other; }
    });
    return best;
  }

  var ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  svg.addEventListener("keydown", function (event) {
    var slug = event.target.getAttribute && event.target.getAttribute("data-slug");
    if (!slug) return;
    var next = null;
    if (ARROWS[event.key]) next = neighbour(slug, ARROWS[event.key][0], ARROWS[event.key][1]);
    else if (event.key === "Home") next = order[0];
    else if (event.key === "End") next = order[order.length - 1];
    else if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(slug); return; }
    else if (event.key === "+" || event.key === "=") { event.preventDefault(); zoomBy(0.5); return; }
    else if (event.key === "-") { event.preventDefault(); zoomBy(2); return; }
    else return;
    event.preventDefault();
    if (next) moveFocus(next);
  });

  svg.addEventListener("focusin", function (event) {
    var slug = event.target.getAttribute && event.target.getAttribute("data-slug");
    if (slug) focusable(slug);
  });

  // Pointer: a click selects; a drag pans.
  var drag = null;
  svg.addEventListener("pointerdown", function (event) {
    if (!view) return;
    drag = { x: event.clientX, y: event.clientY, view: view.slice(), moved: false };
  });
  svg.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) return;
    if (!drag.moved) { drag.moved = true; svg.setPointerCapture(event.pointerId); }
    var perPixel = drag.view[2] / Math.max(mapWidth(), 1);
    setView([drag.view[0] - dx * perPixel, drag.view[1] - dy * perPixel, drag.view[2], drag.view[3]]);
  });
  svg.addEventListener("pointerup", function (event) {
    var wasDrag = drag && drag.moved;
    drag = null;
    if (wasDrag) return;
    var slug = event.target.getAttribute && event.target.getAttribute("data-slug");
    if (slug) { focusable(slug); select(slug); }
  });
  svg.addEventListener("pointercancel", function () { drag = null; });

  function zoomBy(factor, cx, cy) {
    if (!view) return;
    var width = Math.min(Math.max(view[2] * factor, full[2] / 64), full[2] * 2);
    var height = width * view[3] / view[2];
    cx = cx === undefined ? view[0] + view[2] / 2 : cx;
    cy = cy === undefined ? view[1] + view[3] / 2 : cy;
    setView([cx - width / 2, cy - height / 2, width, height]);
  }

  svg.addEventListener("wheel", function (event) {
    if (!view || !event.ctrlKey && !event.metaKey && !event.altKey) return;  // plain wheel scrolls the page
    event.preventDefault();
    zoomBy(event.deltaY > 0 ? 1.25 : 0.8);
  }, { passive: false });

  function fitSlugs(slugs, minWidth) {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    slugs.forEach(function (slug) {
      var area = areas[slug];
      if (!area) return;
      var box = area.box;
      x0 = Math.min(x0, box[0]); y0 = Math.min(y0, box[1]);
      x1 = Math.max(x1, box[0] + box[2]); y1 = Math.max(y1, box[1] + box[3]);
    });
    if (!isFinite(x0)) return;
    var pad = Math.max(x1 - x0, y1 - y0) * 0.05;
    var box = [x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad];
    if (minWidth && box[2] < minWidth) {  // not so close that one small area fills the map
      box[0] -= (minWidth - box[2]) / 2; box[1] -= (minWidth * box[3] / box[2] - box[3]) / 2;
      box[3] = minWidth * box[3] / box[2]; box[2] = minWidth;
    }
    setView(box);
  }

  // One "show" button per region of the page's list.
  function buildRegionButtons() {
    var controls = document.getElementById("map-regions");
    var zoomIn = controls.querySelector("[data-map-zoom='in']");
    document.querySelectorAll("#map-text .region").forEach(function (region) {
      var heading = region.querySelector("h3");
      if (!heading) return;
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = heading.textContent;
      button.setAttribute("data-map-fit", region.getAttribute("aria-labelledby"));
      controls.insertBefore(button, zoomIn);
    });
    controls.hidden = false;
  }

  var regionControls = document.getElementById("map-regions");
  regionControls.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    var fit = button.getAttribute("data-map-fit"), zoomTo = button.getAttribute("data-map-zoom");
    if (zoomTo) zoomBy(zoomTo === "in" ? 0.5 : 2);
    else if (fit === "all") setView(full);
    else if (fit) {
      var region = document.querySelector("#map-text [aria-labelledby='" + fit + "']");
      if (region) fitSlugs(Array.prototype.map.call(region.querySelectorAll("[id^='area-row-']"), function (row) {
        return row.id.slice("area-row-".length);
      }));
    }
  });

  window.addEventListener("resize", function () { width = 0; if (view) setView(view); });

  // "Use my location": asked only on a click; the server finds the area.
  function setUpLocate() {
  var locate = document.getElementById("map-locate");
  var locateStatus = document.getElementById("locate-status");
  locate.hidden = false;
  document.getElementById("locate-button").addEventListener("click", function () {
    function fallback(key) {
      locateStatus.textContent = locate.getAttribute("data-text-" + key);
      var search = document.getElementById("area-q");
      if (search) search.focus();
    }
    if (!navigator.geolocation) { fallback("unsupported"); return; }
    locateStatus.textContent = locate.getAttribute("data-text-asking");
    navigator.geolocation.getCurrentPosition(function (position) {
      var url = locate.getAttribute("data-locate-url") + "?lat=" + position.coords.latitude.toFixed(6) +
        "&lon=" + position.coords.longitude.toFixed(6);
      window.location.assign(url);
    }, function () { fallback("denied"); }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
  });
  }

  function onReady() {
    domReady = true;
    new MutationObserver(queueSync).observe(document.getElementById("map-text"),
      { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });
    setUpLocate();
    whenBoth();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onReady);
  else onReady();

  say(root.getAttribute("data-text-loading"));
  // The same request as the page's <link rel=preload>, so it is already on its way.
  fetch(root.getAttribute("data-geojson-url"))
    .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
    .then(draw)
    .catch(function () { say(root.getAttribute("data-text-failed")); });
})();
