/** `{ [key]: value }`, or no field when `value` is undefined: an optional field to spread into an object. */
export const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
