/**
 * `value` as JSON with every object's keys in order: two posts compared by their JSON are the same
 * whatever order their objects' keys came in (PostgreSQL's jsonb keeps metadata's keys in an
 * order of its own).
 */
export const sortedJson = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)
