// Dates as people read them, and as `<input type="datetime-local">` holds them.

const pad = (n: number): string => String(n).padStart(2, "0");

/** `2026-03-01T09:30` in local time, for a datetime-local input. */
export function toLocalInput(date: Date): string {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** A datetime-local value (local time) as a Date; null when empty or invalid. */
export function fromLocalInput(value: string): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatWhen(date: Date): string {
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600e3],
  ["month", 30 * 24 * 3600e3],
  ["day", 24 * 3600e3],
  ["hour", 3600e3],
  ["minute", 60e3],
];

/** "in 3 days", "2 hours ago". */
export function relative(date: Date, now: number = Date.now()): string {
  const diff = date.getTime() - now;
  const fmt = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return fmt.format(Math.round(diff / ms), unit);
  }
  return fmt.format(Math.round(diff / 60e3), "minute");
}

export function formatDuration(ms: number): string {
  const days = Math.floor(ms / (24 * 3600e3));
  if (days >= 1) return days === 1 ? "1 day" : `${days} days`;
  const hours = Math.max(1, Math.floor(ms / 3600e3));
  return hours === 1 ? "1 hour" : `${hours} hours`;
}
