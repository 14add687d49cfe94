// How far a vital sign is from normal, after the NEWS2 parameter bands (Royal College of
// Physicians, National Early Warning Score 2, 2017; SpO2 on scale 1): 0 normal, 1–3 the
// points NEWS2 gives the value. The tiles highlight 1–2 and mark 3 as critical; the
// alerts themselves come from the hub's detector, this is only for the eye.

const BANDS = {
  // [upper bound (inclusive), points], ascending; the last band catches the rest
  hr: [[40, 3], [50, 1], [90, 0], [110, 1], [130, 2], [Infinity, 3]],
  spo2: [[91, 3], [93, 2], [95, 1], [Infinity, 0]],
  rr: [[8, 3], [11, 1], [20, 0], [24, 2], [Infinity, 3]],
  sbp: [[90, 3], [100, 2], [110, 1], [219, 0], [Infinity, 3]],
  temp: [[35.0, 3], [36.0, 1], [38.0, 0], [39.0, 1], [Infinity, 2]],
};

/** NEWS2 points of one reading (0 when the parameter is not scored). */
export function news2Points(field, value) {
  const bands = BANDS[field];
  if (!bands || value == null || Number.isNaN(Number(value))) return 0;
  const v = field === "temp" ? Math.round(Number(value) * 10) / 10 : Math.round(Number(value));
  for (const [upper, points] of bands) if (v <= upper) return points;
  return 0;
}

/** "vital", "vital vital-abnormal" or "vital vital-critical" for a reading. */
export function vitalClass(field, value) {
  const p = news2Points(field, value);
  if (p >= 3) return "vital vital-critical";
  return p > 0 ? "vital vital-abnormal" : "vital";
}
