/**
 * The daily boundary (`DAILY_RESET_TIME_UTC`): when cooldowns, strikes and disabled keys clear, and
 * which usage day a moment belongs to. A day runs from one reset to the next and is named by the
 * UTC date on which it started, so with a 03:00 reset, 02:00 UTC on the 27th still counts as the 26th.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;

/** Epoch ms of the most recent reset at or before `now`. */
export function lastDailyReset(now: number, resetMinuteUtc: number): number {
  const midnight = Math.floor(now / DAY_MS) * DAY_MS;
  const todays = midnight + resetMinuteUtc * MINUTE_MS;
  return todays <= now ? todays : todays - DAY_MS;
}

/** Epoch ms of the first reset strictly after `now`. */
export function nextDailyReset(now: number, resetMinuteUtc: number): number {
  return lastDailyReset(now, resetMinuteUtc) + DAY_MS;
}

// Every attempt asks for its usage day; the answer changes once a day, so the last one is kept.
let cachedDay = { resetMinuteUtc: -1, from: 0, until: 0, day: "" };

/** The usage day (`YYYY-MM-DD`) that `now` belongs to. */
export function usageDay(now: number, resetMinuteUtc: number): string {
  const cached = cachedDay;
  if (cached.resetMinuteUtc === resetMinuteUtc && now >= cached.from && now < cached.until) return cached.day;
  const from = lastDailyReset(now, resetMinuteUtc);
  cachedDay = { resetMinuteUtc, from, until: from + DAY_MS, day: new Date(from).toISOString().slice(0, 10) };
  return cachedDay.day;
}

/**
 * Call `onReset` at every daily boundary until stopped. Timers are re-armed from the clock each
 * time rather than by a fixed interval, so sleep or clock drift never skips a day.
 */
export function scheduleDailyReset(options: { resetMinuteUtc: number; onReset: () => void }): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const delay = nextDailyReset(Date.now(), options.resetMinuteUtc) - Date.now();
    // setTimeout cannot wait longer than ~24.8 days, and a day is far below that.
    timer = setTimeout(() => {
      options.onReset();
      arm();
    }, delay + 50);
    timer.unref?.();
  };
  arm();
  return () => clearTimeout(timer);
}
