/** Time windows: IANA timezones via Intl, DST transitions, weekdays, hours, holidays. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTimeWindow, localTime, outsideWindow } from '../../../src/monitor/eval/timewindow.ts';

const t = (iso: string) => Date.parse(iso) / 1000;
const berlin = compileTimeWindow({ timezone: 'Europe/Berlin', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '08:00-20:00', holidays: ['2026-12-25', '01-01'] });

describe('time windows', () => {
  it('use local weekday and time in the zone', () => {
    expect(outsideWindow(t('2026-11-25T10:00:00Z'), berlin)).toBeUndefined(); // Wed 11:00 CET
    expect(outsideWindow(t('2026-11-29T02:00:00Z'), berlin)).toMatch(/^sun 2026-11-29 03:00 Europe\/Berlin is not an allowed weekday/);
    expect(outsideWindow(t('2026-11-25T19:30:00Z'), berlin)).toMatch(/20:30 .* outside the allowed hours/);
    expect(outsideWindow(t('2026-11-25T18:59:59Z'), berlin)).toBeUndefined(); // 19:59:59, end exclusive
    expect(outsideWindow(t('2026-11-25T19:00:00Z'), berlin)).toMatch(/20:00/);
    expect(outsideWindow(t('2026-11-25T07:00:00Z'), berlin)).toBeUndefined(); // 08:00 sharp
  });
  it('holidays: exact dates and every-year MM-DD, in local time', () => {
    expect(outsideWindow(t('2026-12-25T10:00:00Z'), berlin)).toMatch(/holiday/);
    expect(outsideWindow(t('2027-01-01T10:00:00Z'), berlin)).toMatch(/holiday/);
    expect(outsideWindow(t('2029-01-01T10:00:00Z'), berlin)).toMatch(/holiday/);
    // 23:30 UTC on the 24th is already the 25th in Berlin.
    expect(outsideWindow(t('2026-12-24T23:30:00Z'), compileTimeWindow({ timezone: 'Europe/Berlin', holidays: ['2026-12-25'] }))).toMatch(/holiday/);
    expect(outsideWindow(t('2026-12-24T22:30:00Z'), compileTimeWindow({ timezone: 'Europe/Berlin', holidays: ['2026-12-25'] }))).toBeUndefined();
  });
  it('follow DST: the same UTC hour is inside in summer and outside in winter', () => {
    expect(outsideWindow(t('2026-07-01T06:30:00Z'), berlin)).toBeUndefined(); // 08:30 CEST (UTC+2)
    expect(outsideWindow(t('2026-01-07T06:30:00Z'), berlin)).toMatch(/07:30/); // 07:30 CET (UTC+1)
  });
  it('are exact at the transitions themselves (Europe/Berlin, America/New_York)', () => {
    // 2026-03-29 01:00Z: Berlin jumps from 02:00 CET to 03:00 CEST.
    expect(localTime(t('2026-03-29T00:59:59Z'), 'Europe/Berlin').clock).toBe('01:59');
    expect(localTime(t('2026-03-29T01:00:00Z'), 'Europe/Berlin').clock).toBe('03:00');
    // 2026-10-25 01:00Z: back from 03:00 CEST to 02:00 CET; 02:30 happens twice.
    expect(localTime(t('2026-10-25T00:30:00Z'), 'Europe/Berlin').clock).toBe('02:30');
    expect(localTime(t('2026-10-25T01:30:00Z'), 'Europe/Berlin').clock).toBe('02:30');
    // 2026-03-08 07:00Z: New York 02:00 EST → 03:00 EDT.
    expect(localTime(t('2026-03-08T06:59:00Z'), 'America/New_York').clock).toBe('01:59');
    expect(localTime(t('2026-03-08T07:00:00Z'), 'America/New_York').clock).toBe('03:00');
    const nightOwl = compileTimeWindow({ timezone: 'America/New_York', hours: '03:00-04:00' });
    expect(outsideWindow(t('2026-03-08T06:59:59Z'), nightOwl)).toMatch(/01:59/);
    expect(outsideWindow(t('2026-03-08T07:00:00Z'), nightOwl)).toBeUndefined();
  });
  it('the weekday is the local one: one instant is Friday in Los Angeles and Saturday in Tokyo', () => {
    const at = t('2026-11-27T20:00:00Z');
    const workdays = ['mon', 'tue', 'wed', 'thu', 'fri'];
    expect(outsideWindow(at, compileTimeWindow({ timezone: 'America/Los_Angeles', weekdays: workdays }))).toBeUndefined();
    expect(outsideWindow(at, compileTimeWindow({ timezone: 'Asia/Tokyo', weekdays: workdays }))).toMatch(/^sat 2026-11-28 05:00 Asia\/Tokyo/);
  });
  it('half-hour and quarter-hour zones, and a 30-minute DST shift (Lord Howe)', () => {
    expect(localTime(t('2026-11-25T10:00:00Z'), 'Asia/Kolkata').clock).toBe('15:30');
    expect(localTime(t('2026-11-25T10:00:00Z'), 'Asia/Kathmandu').clock).toBe('15:45');
    expect(localTime(t('2026-01-15T10:00:00Z'), 'Australia/Lord_Howe').clock).toBe('21:00'); // +11 in summer
    expect(localTime(t('2026-07-15T10:00:00Z'), 'Australia/Lord_Howe').clock).toBe('20:30'); // +10:30 in winter
  });
  it('hour ranges may wrap midnight and be several', () => {
    const night = compileTimeWindow({ timezone: 'UTC', hours: '22:00-06:00' });
    expect(outsideWindow(t('2026-11-25T23:30:00Z'), night)).toBeUndefined();
    expect(outsideWindow(t('2026-11-25T05:59:00Z'), night)).toBeUndefined();
    expect(outsideWindow(t('2026-11-25T12:00:00Z'), night)).toMatch(/outside/);
    const split = compileTimeWindow({ timezone: 'UTC', hours: ['08:00-12:00', '13:00-24:00'] });
    expect(outsideWindow(t('2026-11-25T12:30:00Z'), split)).toMatch(/12:30/);
    expect(outsideWindow(t('2026-11-25T23:59:59Z'), split)).toBeUndefined();
  });
  it('rejects unknown timezones and empty ranges; absurd instants are outside, not a crash', () => {
    expect(() => compileTimeWindow({ timezone: 'Mars/Olympus_Mons' })).toThrow(/unknown timezone/);
    expect(() => compileTimeWindow({ timezone: 'UTC', hours: '08:00-08:00' })).toThrow(/empty/);
    expect(outsideWindow(Number.NaN, berlin)).toMatch(/not a valid instant/);
    expect(outsideWindow(1e15, berlin)).toMatch(/not a valid instant/);
  });
  it('property: inside exactly when a naive reading of the window (Intl parts, minute by minute) says so', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'UTC'];
    const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
    const hhmm = fc.integer({ min: 0, max: 24 * 4 - 1 }).map((q) => `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`);
    const range = fc.tuple(hhmm, fc.oneof(hhmm, fc.constant('24:00'))).filter(([a, b]) => a !== b);
    const minutes = (x: string) => Number(x.slice(0, 2)) * 60 + Number(x.slice(3));
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 4_102_444_800 }),
        fc.option(fc.subarray([...DAYS], { minLength: 1 }), { nil: undefined }),
        fc.option(fc.array(range, { minLength: 1, maxLength: 3 }), { nil: undefined }),
        fc.boolean(),
        (tz, s, weekdays, ranges, holidayToday) => {
          const p = Object.fromEntries(
            new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short' })
              .formatToParts(new Date(s * 1000))
              .map((x) => [x.type, x.value]),
          );
          const date = `${p['year']}-${p['month']}-${p['day']}`;
          const w = compileTimeWindow({ timezone: tz, ...(weekdays ? { weekdays } : {}), ...(ranges ? { hours: ranges.map(([a, b]) => `${a}-${b}`) } : {}), holidays: holidayToday ? [date.slice(5)] : ['1999-01-01'] });
          // Every allowed minute of the day, counted from each range's start up to its end (across midnight).
          const allowed = new Set<number>();
          for (const [a, b] of ranges ?? [['00:00', '24:00']]) {
            const [from, to] = [minutes(a), minutes(b)];
            for (let i = 0; i < (to > from ? to - from : to + 1440 - from); i++) allowed.add((from + i) % 1440);
          }
          const inside = !holidayToday && (weekdays === undefined || weekdays.includes(String(p['weekday']).slice(0, 3).toLowerCase() as (typeof DAYS)[number])) && allowed.has(Number(p['hour']) * 60 + Number(p['minute']));
          expect(outsideWindow(s, w) === undefined, `${date} ${p['hour']}:${p['minute']} ${tz}`).toBe(inside);
        },
      ),
      { numRuns: 3000 },
    );
  });
  it('property: the cached offset arithmetic agrees with Intl formatting every instant directly', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Sao_Paulo', 'Pacific/Chatham', 'UTC'];
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: 0, max: 4_102_444_800 }), (tz, s) => {
        const f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short' });
        const p = Object.fromEntries(f.formatToParts(new Date(s * 1000)).map((x) => [x.type, x.value]));
        const l = localTime(s, tz);
        expect(l.date).toBe(`${p['year']}-${p['month']}-${p['day']}`);
        expect(l.clock).toBe(`${p['hour']}:${p['minute']}`);
        expect(l.weekday).toBe(String(p['weekday']).slice(0, 3).toLowerCase());
      }),
      { numRuns: 3000 },
    );
  });
});
