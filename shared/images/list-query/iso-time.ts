/**
 * ISO 8601 timestamps as Glance's `parse_isotime` reads them in the `created_at` / `updated_at`
 * filters of `GET /v2/images` (docs/api.md#listing-images). Pure.
 */

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
// The grammar of the `iso8601` library behind Glance's `parse_isotime`: year alone, year-month,
// date, then optional time (`T` or space), optional minutes, seconds, fraction and zone.
const ISO_8601 =
  /^(\d{4})(?:(?:-(\d{1,2})|(\d{2})(?!$))(?:(?:-(\d{1,2})|(\d{2}))(?:[ T](\d{2})(?::?(\d{2}))?(?::?(\d{1,2})(?:[.,](\d+))?)?(Z|([-+])(\d{2}):?(\d{2})?)?)?)?)?$/;

/**
 * Parses an ISO 8601 timestamp as Glance does (no zone means UTC) into epoch milliseconds, or
 * undefined when it is not one (bad syntax or an impossible date/time).
 */
export const parseIsoTime = (text: string): number | undefined => {
  const m = ISO_8601.exec(text);
  if (!m) return undefined;
  const num = (value: string | undefined, fallback: number): number =>
    value === undefined ? fallback : Number(value);
  const year = num(m[1], 0);
  const month = num(m[2] ?? m[3], 1);
  const day = num(m[4] ?? m[5], 1);
  const hour = num(m[6], 0);
  const minute = num(m[7], 0);
  const second = num(m[8], 0);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > monthDays) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = m[9] === undefined ? 0 : Math.floor(Number(`0.${m[9]}`) * 1000);
  let offset = 0;
  if (m[11] !== undefined) {
    const tzHour = num(m[12], 0);
    const tzMinute = num(m[13], 0);
    if (tzHour > 23 || tzMinute > 59) return undefined;
    offset = (m[11] === '-' ? -1 : 1) * (tzHour * 60 + tzMinute);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  return utc.getTime() - offset * 60_000;
};
