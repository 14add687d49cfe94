// The alarm on every page of the station app (console, resident detail, admin): the page
// follows the open alerts of the caller's scope from /ws (the snapshot, then the events) and
// rings while any high-priority alert is unacknowledged, and the technical alarm while the
// live connection is lost. One sound button per page: "click to enable sound" until the
// browser lets the page play sound, then "sound on" (a click mutes both alarms for 2
// minutes), then "muted, 1:52 left" (a click unmutes).

import { Alarm, MUTE_MS } from "./alarm.js";
import { h, icon, setConnection } from "./common.js";
import { onChange, t } from "./i18n.js";

/** "1:52" for 112000 ms. */
export function minutesSeconds(ms) {
  const s = Math.ceil(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Drive ``button`` (a <button>) as the sound control of ``alarm``. */
export function soundControl(alarm, button) {
  function render() {
    const state = alarm.state !== "off" ? alarm.state : alarm.technicalState;
    button.dataset.state = alarm.muted ? "muted" : state;
    button.setAttribute("aria-pressed", String(alarm.enabled && !alarm.muted));
    let label;
    if (alarm.muted) label = t("sound.muted", { left: minutesSeconds(alarm.muteLeft) });
    else if (!alarm.enabled) label = t("sound.enable");
    else label = t("sound.on");
    button.title = alarm.enabled && !alarm.muted ? t("sound.mute_hint", { minutes: MUTE_MS / 60000 }) : "";
    button.replaceChildren(icon(alarm.enabled && !alarm.muted ? "sound" : "mute"),
      h("span", { class: "sound-text" }, label));
  }
  button.addEventListener("click", async () => {
    if (alarm.muted) {
      alarm.unmute();
      if (!alarm.enabled) await alarm.enable(); // the click is the gesture sound needs
    } else if (!alarm.enabled) {
      await alarm.enable();
    } else {
      alarm.mute(MUTE_MS);
    }
    render();
  });
  alarm.onChange(render);
  onChange(render);
  render();
  return render;
}

const alarmAlerts = (alerts) => [...alerts.values()].some((a) => a.state === "open" && a.priority === "high");

/**
 * The alarm of a station page that is not the console: returns the handlers to give to
 * connectLive (the page may add its own), after adding a sound button to the header.
 */
export function stationAlarm() {
  const alarm = new Alarm();
  const alerts = new Map();
  const bar = document.getElementById("topbar");
  const button = h("button", { id: "sound-toggle", type: "button", class: "btn btn-sound btn-sound-top" });
  if (bar) bar.insertBefore(button, bar.querySelector(".who"));
  soundControl(alarm, button);
  const update = () => alarm.setActive(alarmAlerts(alerts));
  return {
    alarm,
    onSnapshot(msg) {
      alerts.clear();
      for (const a of msg.alerts || []) alerts.set(a.id, a);
      update();
    },
    onEvent(msg) {
      if (msg.type !== "alert" || !msg.alert) return;
      if (msg.alert.state === "resolved") alerts.delete(msg.alert.id);
      else alerts.set(msg.alert.id, msg.alert);
      update();
    },
    onStatus(state) {
      setConnection(state);
      alarm.setTechnical(state === "lost" || document.body.dataset.session === "ended");
    },
  };
}
