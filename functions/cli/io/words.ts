/** `1 difference`, `2 differences`: a count with its noun, as a person writes it. */
export const plural = (n: number, word: string, many = `${word}s`): string =>
  `${grouped(n)} ${n === 1 ? word : many}`;

/**
 * `1,234,567`, as en-US writes it. A whole number is grouped here: Intl's number formatting loads
 * ICU's data first, 10-15 ms at the end of every sync that prints its summary.
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${digits}` : digits;
}
