/** `1 difference`, `2 differences`: a count with its noun, as a person writes it. */
export const plural = (n: number, word: string, many = `${word}s`): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
