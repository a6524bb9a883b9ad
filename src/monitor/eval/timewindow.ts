/**
 * Time windows for "off-hours" checks. Pure: the instant is passed in. Local time in an IANA timezone
 * comes from Intl (ICU's tz database, DST included): the zone's UTC offset at the instant, then plain
 * UTC arithmetic on the shifted instant. Offsets are cached per 15-minute bucket, and only for buckets
 * with no offset change inside (checked at both ends), so DST transitions are exact.
 */

export interface TimeWindowConfig {
  timezone: string;
  weekdays?: readonly string[];
  hours?: string | readonly string[];
  holidays?: readonly string[];
}

export interface TimeWindow {
  readonly timezone: string;
  /** Allowed weekdays, 0 = Sunday … 6 = Saturday; undefined = every day. */
  readonly weekdays?: ReadonlySet<number>;
  /** Allowed local minute ranges [from, to), to may be ≤ from (wraps midnight); undefined = all day. */
  readonly hours?: ReadonlyArray<readonly [number, number]>;
  readonly holidays: ReadonlySet<string>;
  /** For messages: the window as written. */
  readonly text: string;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short' });
    formatters.set(tz, f);
  }
  return f;
}

/** Throws for a name Intl does not know. */
export function checkTimezone(tz: string): void {
  try {
    formatter(tz);
  } catch {
    throw new Error(`unknown timezone ${tz}: use an IANA name like Europe/Berlin or America/New_York`);
  }
}

/** The zone's offset from UTC at `t`, in seconds. */
function offsetAt(tz: string, t: number): number {
  const p: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(new Date(t * 1000))) p[part.type] = part.value;
  let year = Number(p['year']);
  if (p['era'] === 'BC' || p['era'] === 'B') year = 1 - year;
  const local = Date.UTC(year, Number(p['month']) - 1, Number(p['day']), Number(p['hour']), Number(p['minute']), Number(p['second'])) / 1000;
  return local - Math.floor(t);
}

const BUCKET = 900;
const MAX_CACHE = 8192;
const offsets = new Map<string, number>();

function cachedOffset(tz: string, t: number): number {
  const bucket = Math.floor(t / BUCKET);
  const key = `${tz}\u0000${bucket}`;
  const hit = offsets.get(key);
  if (hit !== undefined) return hit;
  const start = offsetAt(tz, bucket * BUCKET);
  const end = offsetAt(tz, bucket * BUCKET + BUCKET - 1);
  if (start !== end) return offsetAt(tz, t); // a transition inside this bucket: no caching
  if (offsets.size >= MAX_CACHE) offsets.clear();
  offsets.set(key, start);
  return start;
}

export interface LocalTime {
  /** `mon` … `sun`. */
  weekday: string;
  weekdayIndex: number;
  /** `YYYY-MM-DD`. */
  date: string;
  /** Minutes since local midnight. */
  minutes: number;
  /** `HH:MM`. */
  clock: string;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function localTime(t: number, tz: string): LocalTime {
  const d = new Date((Math.floor(t) + cachedOffset(tz, t)) * 1000);
  const minutes = d.getUTCHours() * 60 + d.getUTCMinutes();
  const day = d.getUTCDay();
  return {
    weekday: DAYS[day]!,
    weekdayIndex: day,
    date: `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    minutes,
    clock: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`,
  };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Compiles a validated window; throws with a message for an unknown timezone or an empty range. */
export function compileTimeWindow(w: TimeWindowConfig): TimeWindow {
  checkTimezone(w.timezone);
  const ranges = w.hours === undefined ? undefined : typeof w.hours === 'string' ? [w.hours] : w.hours;
  const hours = ranges?.map((r): [number, number] => {
    const [from, to] = r.split('-').map(toMinutes) as [number, number];
    if (from === to) throw new Error(`hours ${r} is empty; use 00:00-24:00 for the whole day`);
    return [from, to];
  });
  const parts = [w.weekdays ? w.weekdays.join(',') : 'every day', ranges ? ranges.join(',') : 'all day', w.timezone];
  if (w.holidays?.length) parts.push(`except ${w.holidays.length} holiday(s)`);
  return {
    timezone: w.timezone,
    ...(w.weekdays ? { weekdays: new Set(w.weekdays.map((d) => DAYS.indexOf(d as (typeof DAYS)[number]))) } : {}),
    ...(hours ? { hours } : {}),
    holidays: new Set(w.holidays ?? []),
    text: parts.join(' '),
  };
}

const inRange = (m: number, [from, to]: readonly [number, number]) => (from < to ? m >= from && m < to : m >= from || m < to);

/** Why `t` (Unix seconds) is outside the window, or undefined when inside. */
export function outsideWindow(t: number, w: TimeWindow): string | undefined {
  // ECMAScript dates span ±8.64e15 ms (ES2024 §21.4.1.22); keep a day of margin for the zone offset.
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e12 - 86_400 * 2) return `time ${String(t)} is not a valid instant`;
  const local = localTime(t, w.timezone);
  const when = `${local.weekday} ${local.date} ${local.clock} ${w.timezone}`;
  if (w.holidays.has(local.date) || w.holidays.has(local.date.slice(5))) return `${when} is a holiday`;
  if (w.weekdays && !w.weekdays.has(local.weekdayIndex)) return `${when} is not an allowed weekday`;
  if (w.hours && !w.hours.some((r) => inRange(local.minutes, r))) return `${when} is outside the allowed hours`;
  return undefined;
}
