/**
 * How `status` says when Apple's trust in the stored sign-in runs out, in whole days a person
 * reads at a glance: "expires 2027-01-21 (59 days)", "expired 2 days ago (2026-12-04)".
 */
const DAY_MS = 24 * 60 * 60 * 1000;

const days = (n: number) => (n === 1 ? '1 day' : `${n} days`);

export function describeTrust(expiresAt: number, now: number): string {
  const date = new Date(expiresAt).toISOString().slice(0, 10);
  const whole = Math.floor(Math.abs(expiresAt - now) / DAY_MS);
  if (expiresAt <= now)
    return `expired ${whole === 0 ? 'less than a day ago' : `${days(whole)} ago`} (${date})`;
  return `expires ${date} (${whole === 0 ? 'within a day' : days(whole)})`;
}
