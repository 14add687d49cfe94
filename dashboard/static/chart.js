// Vital-sign charts as inline SVG, drawn by hand: the bucket means as a line over the
// min-max band, time along x in the user's time zone, a gap where no data came in.

import { formatDay, formatShort, localMinutes } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const W = 520;
const H = 150;
const PAD = { left: 36, right: 10, top: 8, bottom: 22 };

/**
 * Ticks at round local times between since and until: every 6 hours (00:00, 06:00...)
 * over a day, every midnight over a week. Returns epoch seconds.
 */
export function roundTicks(since, until) {
  const stepMin = until - since > 2 * 86400 ? 1440 : 360;
  const at = Math.floor(since / 60) * 60; // whole minutes
  const offset = (stepMin - (localMinutes(at) % stepMin)) % stepMin;
  const ticks = [];
  for (let t = at + offset * 60; t <= until; t += stepMin * 60) if (t >= since) ticks.push(t);
  return ticks;
}

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceRange(lo, hi) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.1;
  return [lo - pad, hi + pad];
}

/** Split points into runs without gaps longer than maxGap seconds. */
function runs(points, maxGap) {
  const out = [];
  let current = [];
  for (const p of points) {
    if (current.length && p.t - current[current.length - 1].t > maxGap) {
      out.push(current);
      current = [];
    }
    current.push(p);
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * lineChart({title, unit, since, until, bucket, series: [{points: [{t, mean, min, max}],
 * className}], range: [lo, hi] (optional, widened to fit)}) → <figure>
 */
export function lineChart({ title, unit, since, until, bucket, series, range, withDay = false }) {
  const all = series.flatMap((s) => s.points);
  let lo = Math.min(...all.map((p) => p.min));
  let hi = Math.max(...all.map((p) => p.max));
  if (range) {
    lo = Math.min(lo, range[0]);
    hi = Math.max(hi, range[1]);
  }
  [lo, hi] = niceRange(lo, hi);
  const x = (t) => PAD.left + ((t - since) / (until - since)) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - (v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `${title} (${unit})` });
  for (let i = 0; i <= 4; i += 1) {
    const v = lo + ((hi - lo) * i) / 4;
    svg.append(el("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    svg.append(el("text", { x: PAD.left - 4, y: y(v) + 3, "text-anchor": "end" },
      Math.abs(hi - lo) < 5 ? v.toFixed(1) : Math.round(v)));
  }
  for (const t of roundTicks(since, until)) {
    svg.append(el("line", { class: "grid", x1: x(t), x2: x(t), y1: PAD.top, y2: H - PAD.bottom }));
    const near = x(t) < PAD.left + 18 ? "start" : x(t) > W - PAD.right - 18 ? "end" : "middle";
    svg.append(el("text", { x: x(t), y: H - 6, "text-anchor": near }, withDay ? formatDay(t) : formatShort(t)));
  }
  svg.append(el("line", { class: "axis", x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom }));
  svg.append(el("line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }));
  for (const s of series) {
    for (const run of runs(s.points, bucket * 3)) {
      const top = run.map((p) => `${x(p.t).toFixed(1)},${y(p.max).toFixed(1)}`);
      const bottom = run.slice().reverse().map((p) => `${x(p.t).toFixed(1)},${y(p.min).toFixed(1)}`);
      svg.append(el("polygon", { class: "band", points: [...top, ...bottom].join(" ") }));
      const line = run.map((p) => `${x(p.t).toFixed(1)},${y(p.mean).toFixed(1)}`).join(" ");
      if (run.length === 1) {
        svg.append(el("circle", { cx: x(run[0].t), cy: y(run[0].mean), r: 2.5, fill: "#1f5fbf" }));
      } else {
        svg.append(el("polyline", { class: s.className || "line", points: line }));
      }
    }
  }
  const figure = document.createElement("figure");
  figure.className = "chart-box";
  figure.style.margin = "0";
  const caption = document.createElement("figcaption");
  caption.className = "chart-title";
  caption.textContent = `${title} (${unit})`;
  figure.append(caption, svg);
  return figure;
}

/** Points of one field from the API's series ({device: [{t, n, field: [mean, min, max]}]}). */
export function pointsOf(seriesByDevice, field) {
  const points = [];
  for (const rows of Object.values(seriesByDevice || {})) {
    for (const row of rows) {
      const v = row[field];
      if (Array.isArray(v) && v.length === 3 && v.every(Number.isFinite)) {
        points.push({ t: row.t, mean: v[0], min: v[1], max: v[2] });
      }
    }
  }
  points.sort((a, b) => a.t - b.t);
  return points;
}
