/**
 * Wall-clock boundaries in a named time zone, DST-correct, using only `Intl`: Gemini's per-day
 * quotas reset at midnight America/Los_Angeles, which is 07:00 or 08:00 UTC depending on the season.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's wall clock at `at`, as if that wall time were UTC (so differences give the offset). */
function wallClockAsUtc(at: number, timeZone: string): number {
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(at).map((part) => [part.type, Number(part.value)]));
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** Epoch ms of the first midnight in `timeZone` strictly after `now`. */
export function nextMidnightIn(timeZone: string, now: number): number {
  const wall = new Date(wallClockAsUtc(now, timeZone));
  const targetWall = Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate() + 1);
  // Offset at the guess, then once more at the corrected instant, in case DST changed in between.
  let instant = targetWall - (wallClockAsUtc(targetWall, timeZone) - targetWall);
  instant = targetWall - (wallClockAsUtc(instant, timeZone) - instant);
  return instant;
}
