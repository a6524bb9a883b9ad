/**
 * Time windows for "off-hours" checks. Pure: the instant is passed in; the local weekday, date and time
 * in the window's IANA timezone come from Intl (with its tz database, DST included).
 */
export interface TimeWindow {
  timezone: string;
  /** Allowed weekdays, `mon`…`sun`; default every day. */
  weekdays?: string[];
  /** Allowed local hours `HH:MM-HH:MM` (end exclusive; may wrap midnight); default all day. */
  hours?: string;
  /** Local dates `YYYY-MM-DD` on which nothing is expected. */
  holidays?: string[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimezone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

export function localTime(unixSeconds: number, tz: string): { weekday: string; date: string; minutes: number } {
  const parts = Object.fromEntries(formatter(tz).formatToParts(new Date(unixSeconds * 1000)).map((p) => [p.type, p.value]));
  return {
    weekday: String(parts['weekday']).slice(0, 3).toLowerCase(),
    date: `${parts['year']}-${parts['month']}-${parts['day']}`,
    minutes: Number(parts['hour']) * 60 + Number(parts['minute']),
  };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Why `t` is outside the window, or undefined when inside. */
export function outsideWindow(t: number, w: TimeWindow): string | undefined {
  const local = localTime(t, w.timezone);
  if (w.holidays?.includes(local.date)) return `${local.date} is a holiday in ${w.timezone}`;
  if (w.weekdays && !w.weekdays.includes(local.weekday)) return `${local.weekday} ${local.date} is not a working day in ${w.timezone}`;
  if (w.hours) {
    const [from, to] = w.hours.split('-').map(toMinutes) as [number, number];
    const inside = from <= to ? local.minutes >= from && local.minutes < to : local.minutes >= from || local.minutes < to;
    if (!inside) {
      const hh = String(Math.floor(local.minutes / 60)).padStart(2, '0');
      const mm = String(local.minutes % 60).padStart(2, '0');
      return `${hh}:${mm} ${local.weekday} in ${w.timezone} is outside ${w.hours}`;
    }
  }
  return undefined;
}
