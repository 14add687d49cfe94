// The audible alarm for high-priority alerts, with the Web Audio API.
//
// Pattern after the high-priority auditory alarm signal of IEC 60601-1-8 (10 pulses as
// 3 + 2, pause, 3 + 2; the burst repeating while the alarm condition lasts, here every
// REPEAT_MS until someone acknowledges). Browsers keep audio muted until the user has
// interacted with the page, so the console shows a "click to enable sound" control first.
// The alarm state is mirrored on <body data-alarm="off|ringing|ringing-muted|muted">:
// "ringing-muted" while the page may not play sound yet, "muted" while someone muted it.
//
// Muting is always timed (MUTE_MS, 2 minutes): a muted alarm comes back by itself, so a
// later alarm is never silent. The end of the mute is kept in localStorage, so it holds
// across the pages of the station app (console, resident detail, admin) on one PC.
//
// The technical alarm ("the connection is lost: what you see may be stale") uses the
// standard's medium-priority pattern instead (3 pulses, lower pitch, every TECH_REPEAT_MS),
// so staff can tell "someone needs help" from "the console needs attention" by ear; it is
// mirrored on <body data-tech-alarm="off|ringing|ringing-muted">.

const PULSE_S = 0.15;
const GAP_S = 0.08;
const GROUP_GAP_S = 0.3;
const BURST_GAP_S = 0.7;
const REPEAT_MS = 6000;
const FREQUENCY_HZ = 660; // within the standard's 150-1000 Hz fundamental
const TECH_FREQUENCY_HZ = 440;
const TECH_REPEAT_MS = 15000;
export const MUTE_MS = 120000;
const MUTE_KEY = "carehub.mute_until";

export class Alarm {
  /** clock: {now() → ms} (tests and the page may pass their own); storage: localStorage. */
  constructor({ clock = { now: () => Date.now() }, storage = window.localStorage } = {}) {
    this.clock = clock;
    this.storage = storage;
    this.muteTicker = null;
    this.context = null;
    this.active = false;
    this.timer = null;
    this.technical = false;
    this.techTimer = null;
    this.listeners = [];
    if (this.muted) this._watchMute(); // muted on another page of the station app
    this._changed();
  }

  get enabled() {
    return this.context !== null && this.context.state === "running";
  }

  /** Call from a user gesture (click, key): creates and resumes the audio context. */
  async enable() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return false;
    if (!this.context) this.context = new Context();
    if (this.context.state !== "running") await this.context.resume();
    this._changed();
    if (this.active) this._ring();
    if (this.technical) this._ringTechnical();
    return this.enabled;
  }

  /** When a timed mute ends (ms since the epoch), or 0 when not muted. */
  get mutedUntil() {
    const until = Number(this.storage.getItem(MUTE_KEY) || 0);
    return until > this.clock.now() ? until : 0;
  }

  get muted() {
    return this.mutedUntil > 0;
  }

  /** Milliseconds of mute left (0 when not muted). */
  get muteLeft() {
    return Math.max(0, this.mutedUntil - this.clock.now());
  }

  /** Mute both alarms for ``ms``; they come back by themselves. */
  mute(ms = MUTE_MS) {
    this.storage.setItem(MUTE_KEY, String(this.clock.now() + ms));
    this._watchMute();
    this._changed();
  }

  unmute() {
    this.storage.removeItem(MUTE_KEY);
    this._changed();
    if (this.active) this._ring();
    if (this.technical) this._ringTechnical();
  }

  /** While muted, tick every second: listeners show the time left, and the end unmutes. */
  _watchMute() {
    if (this.muteTicker !== null) return;
    this.muteTicker = setInterval(() => {
      if (!this.muted) {
        clearInterval(this.muteTicker);
        this.muteTicker = null;
        this.unmute();
        return;
      }
      this._changed();
    }, 1000);
  }

  /** Ring (repeating) while an unacknowledged high-priority alert exists. */
  setActive(active) {
    if (active === this.active) return;
    this.active = active;
    clearInterval(this.timer);
    this.timer = null;
    if (active) {
      this._ring();
      this.timer = setInterval(() => this._ring(), REPEAT_MS);
    }
    this._changed();
  }

  /** Ring the technical alarm (repeating) while the live connection is lost. */
  setTechnical(active) {
    if (active === this.technical) return;
    this.technical = active;
    clearInterval(this.techTimer);
    this.techTimer = null;
    if (active) {
      this._ringTechnical();
      this.techTimer = setInterval(() => this._ringTechnical(), TECH_REPEAT_MS);
    }
    this._changed();
  }

  get technicalState() {
    if (!this.technical) return "off";
    if (this.muted) return "muted";
    return this.enabled ? "ringing" : "ringing-muted";
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  get state() {
    if (!this.active) return "off";
    if (this.muted) return "muted";
    return this.enabled ? "ringing" : "ringing-muted";
  }

  _changed() {
    document.body.dataset.alarm = this.state;
    document.body.dataset.techAlarm = this.technicalState;
    for (const fn of this.listeners) fn(this.state);
  }

  _ring() {
    if (!this.enabled || !this.active || this.muted) return;
    const ctx = this.context;
    let at = ctx.currentTime + 0.05;
    for (const group of [3, 2, null, 3, 2]) {
      if (group === null) {
        at += BURST_GAP_S;
        continue;
      }
      for (let i = 0; i < group; i += 1) {
        this._pulse(at);
        at += PULSE_S + GAP_S;
      }
      at += GROUP_GAP_S;
    }
  }

  _ringTechnical() {
    if (!this.enabled || !this.technical || this.muted) return;
    let at = this.context.currentTime + 0.05;
    for (let i = 0; i < 3; i += 1) {
      this._pulse(at, TECH_FREQUENCY_HZ);
      at += 0.2 + GAP_S;
    }
  }

  _pulse(at, frequency = FREQUENCY_HZ) {
    const ctx = this.context;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "triangle"; // harmonics make the tone easier to localise than a sine
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.4, at + 0.02);
    gain.gain.setValueAtTime(0.4, at + PULSE_S - 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + PULSE_S);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + PULSE_S + 0.01);
  }
}
