// The outage map: the page draws the shapes (SVG paths, already coloured by
// status and opened on the worst outage); this script sizes the patterns to the
// map's width, keeps the shapes coloured from the page's own list of areas (which
// the live push keeps current), and makes them selectable by mouse, touch and
// keyboard; "use my location" on request. No inline styles: everything visual is
// a class or an SVG attribute, so the strict CSP holds.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var TILE = 256;
  var root = document.getElementById("map");
  if (!root) return;
  var language = root.getAttribute("data-lang") || document.documentElement.lang;
  var langQuery = root.getAttribute("data-lang-query") || "";
  var svg = document.getElementById("map-svg");
  var shapesLayer = svg.querySelector(".map__shapes");
  var labelsLayer = svg.querySelector(".map__labels");
  var tilesLayer = svg.querySelector(".map__tiles");
  var areas = {};        // slug -> {path, label, name, x, y, box, width, status}
  var order = [];        // slugs in drawing order
  var focused = null, selected = null, indexed = false;
  function numbers(text) { return (text || "").split(" ").map(Number); }
  var zoom = Number(svg.getAttribute("data-zoom"));
  var full = numbers(svg.getAttribute("data-full")), view = null;
  function pairs(attribute) {
    var out = {};
    (root.getAttribute(attribute) || "").split(" ").forEach(function (pair) {
      var at = pair.lastIndexOf(":");
      if (at > 0) out[pair.slice(0, at)] = pair.slice(at + 1);
    });
    return out;
  }
  var icons = pairs("data-icons");

  // The shapes as the page drew them: read after the first paint, or at the first interaction.
  function index() {
    if (indexed) return;
    indexed = true;
    shapesLayer.querySelectorAll("path[data-slug]").forEach(function (path) {
      var slug = path.getAttribute("data-slug"), box = numbers(path.getAttribute("data-box"));
      var at = numbers(path.getAttribute("data-at")), match = /\bmap-area--(\S+)/.exec(path.getAttribute("class"));
      var label = path.getAttribute("aria-label");  // "<name>: <status>"
      areas[slug] = { path: path, label: null, name: label.slice(0, label.lastIndexOf(": ")), x: at[0], y: at[1],
        box: box, width: box[2], status: match ? match[1] : "operational" };
      if (path.getAttribute("tabindex") === "0") focused = slug;
      order.push(slug);
    });
    labelsLayer.querySelectorAll(".map-label[data-for]").forEach(function (label) {
      var area = areas[label.getAttribute("data-for")];
      if (area) area.label = label;
    });
  }

  // The map's width on screen, read once and again only on resize: reading it
  // while the page is still being built would force a layout of the whole page.
  var width = 0;
  function mapWidth() { if (!width) width = svg.clientWidth; return width; }

  function setView(box) {
    view = box;
    svg.setAttribute("viewBox", box.map(function (n) { return n.toFixed(1); }).join(" "));
    // Patterns are in map units: scale them so they stay about 8 screen pixels.
    var perPixel = box[2] / Math.max(mapWidth() || 1000, 1);
    svg.querySelectorAll("pattern").forEach(function (pattern) {
      pattern.setAttribute("patternTransform", "scale(" + perPixel.toFixed(3) + ")");
    });
    shapesLayer.setAttribute("font-size", (100 * perPixel).toFixed(2));  // strokes are in .01em: screen pixels
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
        area.nameLabel.setAttribute("x", area.x); area.nameLabel.setAttribute("y", area.y);
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
    index();
    namesReady = true;
    setView(view);
  }

  function drawTiles() {
    var template = root.getAttribute("data-tile-url");
    if (!template || !view) return;
    var perPixel = view[2] / Math.max(mapWidth() || 1000, 1);
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

  // Statuses come from the page's list of areas (#area-row-<slug>, class area-row--<status>).
  function sync() {
    index();
    document.querySelectorAll("#map-text [id^='area-row-']").forEach(function (row) {
      var slug = row.id.slice("area-row-".length), area = areas[slug];
      if (!area) return;
      var match = /\barea-row--(\S+)/.exec(row.className);
      var status = match ? match[1] : "operational";
      var badge = row.querySelector(".badge");
      var icon = row.querySelector(".badge__icon");
      var words = badge ? badge.textContent.replace(icon ? icon.textContent : "", "").trim() : status;
      var name = area.name + ": " + words;
      if (area.path.getAttribute("aria-label") !== name) area.path.setAttribute("aria-label", name);
      if (setStatus(slug, status) && slug === selected) loadCard(slug);
    });
  }

  function setStatus(slug, status) {
    var area = areas[slug];
    if (!area || area.status === status) return false;
    area.status = status;
    area.path.setAttribute("class", "map-area map-area--" + status + (slug === selected ? " is-selected" : ""));
    if (!area.label) {
      area.label = document.createElementNS(SVG, "text");
      area.label.setAttribute("x", area.x); area.label.setAttribute("y", area.y);
      area.label.setAttribute("data-for", slug);
      labelsLayer.insertBefore(area.label, labelsLayer.querySelector(".map-name"));
    }
    area.label.setAttribute("class", "map-label map-label--" + status);
    area.label.textContent = status === "operational" ? "" : (icons[status] || "!");
    return true;
  }

  // Once the page (with its list of areas) is parsed.
  function ready() {
    sync();
    buildRegionButtons();
    root.setAttribute("data-drawn", String(order.length));
    mark("map-drawn");
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
    link.setAttribute("href", root.getAttribute("data-area-url").replace("SLUG", encodeURIComponent(slug)));
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
    index();
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
    if (slug) { index(); focusable(slug); }
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
    if (slug) { index(); focusable(slug); select(slug); }
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
      index();
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
    new MutationObserver(queueSync).observe(document.getElementById("map-text"),
      { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });
    setUpLocate();
    ready();
  }

  // The map is already in the page: size its patterns and labels to its real
  // width (one small layout: the rest of the page is not parsed yet), then let
  // the browser paint before anything else is done.
  mark("map-parsed");
  setView(numbers(svg.getAttribute("viewBox")));
  // The frame after the next one has been painted: the map is on screen.
  requestAnimationFrame(function () { requestAnimationFrame(function () {
    mark("map-painted");
    root.setAttribute("data-painted", "");
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onReady);
    else onReady();
    setTimeout(placeNames, 0);
  }); });
})();
