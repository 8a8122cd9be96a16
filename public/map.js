// The live map: couriers (polled every 2 s), their tracks, an H3 density layer and nearby search.
// Polling rather than SSE or WebSocket: a view is a bounding box that changes as the user pans,
// each poll is one cheap Redis read, and plain GETs pass every proxy and cache.
/* global L, h3 */

const POLL_MS = 2000;
const DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
const STATES = { free: "#2e8b57", to_pickup: "#1f6fd1", to_dropoff: "#d1461f", offline: "#7a7a7a" };

const $ = (id) => document.getElementById(id);
const keyInput = $("key");
let apiKey = localStorage.getItem("geoedge.key") ?? "";
keyInput.value = apiKey;

// `?center=lat,lon&zoom=z` opens the map elsewhere than Madrid.
const query = new URLSearchParams(location.search);
const [startLat, startLon] = (query.get("center") ?? "40.4168,-3.7038").split(",").map(Number);
const map = L.map("map", { zoomControl: true, keyboard: true }).setView(
  [startLat || 40.4168, startLon || -3.7038],
  Number(query.get("zoom")) || 13,
);
L.control.scale({ imperial: false }).addTo(map);
const legend = L.control({ position: "bottomright" });
legend.onAdd = () => {
  const div = L.DomUtil.create("div", "legend");
  div.innerHTML = Object.entries(STATES)
    .map(([state, colour]) => `<div><i style="background:${colour}"></i>${state.replace("_", " ")}</div>`)
    .join("");
  return div;
};
legend.addTo(map);

const couriersLayer = L.layerGroup().addTo(map);
const densityLayer = L.layerGroup();
const trackLayer = L.layerGroup().addTo(map);
const searchLayer = L.layerGroup().addTo(map);
const markers = new Map();
let lastCouriers = [];
let selected = null;

/** Calls the API with the key; throws with the problem's detail on failure. */
async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${apiKey}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail ?? body.error?.message ?? `HTTP ${res.status}`);
  return body;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Probes one tile before adding the layer: offline, the page says so and keeps a plain base. */
async function setUpTiles() {
  const url = query.get("tiles") ?? DEFAULT_TILES;
  const banner = $("tiles-banner");
  if (url === "none") {
    banner.textContent = "Map tiles are off: couriers and results are drawn over a plain base.";
    banner.hidden = false;
    return;
  }
  const probe = url.replace("{s}", "a").replace("{z}", "2").replace("{x}", "1").replace("{y}", "1");
  try {
    await fetch(probe, { mode: "no-cors", signal: AbortSignal.timeout(4000) });
    L.tileLayer(url, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
  } catch {
    banner.textContent = `Map tiles are unavailable (${new URL(probe).host} cannot be reached): couriers and results are drawn over a plain base.`;
    banner.hidden = false;
  }
}

function courierIcon(c) {
  const state = c.state ?? "unknown";
  const heading = c.heading_deg ?? 0;
  return L.divIcon({
    className: `courier-icon state-${state}`,
    html: `<span style="transform: rotate(${heading}deg)" title="${escapeHtml(c.courier_id)} (${state})"></span>`,
    iconSize: [18, 18],
    iconAnchor: [9, 9],
  });
}

function drawCouriers(couriers) {
  const seen = new Set();
  for (const c of couriers) {
    seen.add(c.courier_id);
    let marker = markers.get(c.courier_id);
    if (!marker) {
      marker = L.marker([c.lat, c.lon], { icon: courierIcon(c), keyboard: true, title: c.courier_id });
      marker.on("click", () => selectCourier(c.courier_id));
      marker.addTo(couriersLayer);
      markers.set(c.courier_id, marker);
    } else {
      marker.setLatLng([c.lat, c.lon]);
      marker.setIcon(courierIcon(c));
    }
    marker.getElement()?.setAttribute("data-courier", c.courier_id);
  }
  for (const [id, marker] of markers) {
    if (!seen.has(id)) {
      couriersLayer.removeLayer(marker);
      markers.delete(id);
    }
  }
}

function drawDensity() {
  densityLayer.clearLayers();
  const counts = new Map();
  for (const c of lastCouriers) {
    const cell = h3.latLngToCell(c.lat, c.lon, 8);
    counts.set(cell, (counts.get(cell) ?? 0) + 1);
  }
  const max = Math.max(1, ...counts.values());
  for (const [cell, n] of counts) {
    L.polygon(h3.cellToBoundary(cell), {
      weight: 1,
      color: "#6a3d9a",
      fillColor: "#6a3d9a",
      fillOpacity: 0.1 + 0.6 * (n / max),
      className: "density-cell",
    })
      .bindTooltip(`${n} couriers`)
      .addTo(densityLayer);
  }
}

async function poll() {
  if (!apiKey) return;
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const bbox = [
    clamp(b.getWest(), -180, 180),
    clamp(b.getSouth(), -85.05, 85.05),
    clamp(b.getEast(), -180, 180),
    clamp(b.getNorth(), -85.05, 85.05),
  ]
    .map((v) => v.toFixed(6))
    .join(",");
  try {
    const body = await api(`/v1/couriers/live?bbox=${bbox}&limit=1000`);
    lastCouriers = body.couriers;
    $("live-count").textContent = `${body.total_live} live couriers (${body.count} in view)`;
    drawCouriers(body.couriers);
    if (map.hasLayer(densityLayer)) drawDensity();
    if (selected) await showCourier(selected, false);
  } catch (error) {
    $("live-count").textContent = `couriers unavailable: ${error.message}`;
  }
}

async function showCourier(id, fit) {
  const minutes = Number($("track-minutes").value);
  const from = new Date(Date.now() - minutes * 60_000).toISOString();
  const [state, track] = await Promise.all([
    api(`/v1/couriers/${encodeURIComponent(id)}`),
    api(`/v1/couriers/${encodeURIComponent(id)}/track?from=${encodeURIComponent(from)}`),
  ]);
  trackLayer.clearLayers();
  const coords =
    track.geometry?.type === "LineString" ? track.geometry.coordinates.map(([lon, lat]) => [lat, lon]) : [];
  if (coords.length > 1) {
    const line = L.polyline(coords, {
      color: "#111",
      weight: 3,
      opacity: 0.8,
      className: "track-line",
    }).addTo(trackLayer);
    if (fit) map.fitBounds(line.getBounds(), { maxZoom: 16, padding: [30, 30] });
  }
  $("details").innerHTML = `<h2>Courier ${escapeHtml(id)}</h2>
    <dl>
      <dt>state</dt><dd>${escapeHtml(state.state ?? "unknown")}</dd>
      <dt>task</dt><dd>${escapeHtml(state.task_id ?? "–")}</dd>
      <dt>speed</dt><dd>${state.speed_mps === null ? "–" : `${(state.speed_mps * 3.6).toFixed(1)} km/h`}</dd>
      <dt>heading</dt><dd>${state.heading_deg === null ? "–" : `${Math.round(state.heading_deg)}°`}</dd>
      <dt>last fix</dt><dd>${escapeHtml(new Date(state.recorded_at).toLocaleTimeString())}</dd>
      <dt>track</dt><dd id="track-summary">${track.properties.fixes} fixes in ${minutes} min</dd>
    </dl>`;
}

async function selectCourier(id) {
  selected = id;
  try {
    await showCourier(id, true);
  } catch (error) {
    $("details").textContent = `Courier ${id}: ${error.message}`;
  }
}

async function searchAt(latlng) {
  const kind = $("search-kind").value;
  const radius = Math.min(50_000, Math.max(50, Number($("radius").value) || 1000));
  searchLayer.clearLayers();
  L.circle(latlng, {
    radius,
    color: "#f5a623",
    weight: 2,
    fillOpacity: 0.05,
    className: "search-circle",
  }).addTo(searchLayer);
  const q = `lat=${latlng.lat.toFixed(6)}&lon=${latlng.lng.toFixed(6)}&radius_m=${radius}&limit=20`;
  try {
    const body = await api(kind === "profiles" ? `/v1/profiles/nearby?${q}` : `/v1/couriers/nearby?${q}`);
    const rows = body.results.map((r) => ({
      id: r.id ?? r.courier_id,
      lat: r.lat,
      lon: r.lon,
      distance: r.distance_m,
    }));
    for (const r of rows) {
      L.circleMarker([r.lat, r.lon], { radius: 6, color: "#b35c00", className: "search-result" })
        .bindTooltip(`${r.id} · ${Math.round(r.distance)} m`)
        .addTo(searchLayer);
    }
    $("details").innerHTML = `<h2>${rows.length} ${kind} within ${radius} m</h2><ol id="search-results">${rows
      .map((r) => `<li>${escapeHtml(r.id)} · ${Math.round(r.distance)} m</li>`)
      .join("")}</ol>`;
  } catch (error) {
    $("details").textContent = `Search failed: ${error.message}`;
  }
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  apiKey = keyInput.value.trim();
  localStorage.setItem("geoedge.key", apiKey);
  void poll();
});
$("density").addEventListener("change", (event) => {
  if (event.target.checked) {
    densityLayer.addTo(map);
    drawDensity();
  } else map.removeLayer(densityLayer);
});
$("search-centre").addEventListener("click", () => void searchAt(map.getCenter()));
map.on("click", (event) => void searchAt(event.latlng));
map.on("moveend", () => void poll());

await setUpTiles();
void poll();
setInterval(() => void poll(), POLL_MS);
