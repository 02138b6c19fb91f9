/**
 * Keys an object of a JSON text has twice, which the API's JSON bodies and the import's NDJSON
 * records are refused for. Of no layer: the HTTP edge and processing check alike.
 */

/**
 * The path of the first key that an object of `json` (valid JSON) has twice, else `undefined`.
 * `JSON.parse` keeps the last silently, so `{"status":"draft", ..., "status":"published"}`
 * published a draft: the mistake the refusal of unknown fields is there to catch.
 */
export const duplicateKeyOf = (json: string): ReadonlyArray<string | number> | undefined => {
  // One frame per open object (its keys so far) or array (`keys` undefined); `at` is the member
  // being read, so the frames' `at`s are the path to it.
  const frames: Array<{ readonly keys: Set<string> | undefined; at: string | number }> = []
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === 0x22 /* " */) {
      let end = i + 1
      while (end < json.length && json.charCodeAt(end) !== 0x22) end += json.charCodeAt(end) === 0x5c /* \ */ ? 2 : 1
      let next = end + 1
      while (isJsonSpace(json.charCodeAt(next))) next++
      const frame = frames[frames.length - 1]
      if (json.charCodeAt(next) === 0x3a /* : */ && frame?.keys !== undefined) {
        const key = JSON.parse(json.slice(i, end + 1)) as string
        if (frame.keys.has(key)) return [...frames.slice(0, -1).map((outer) => outer.at), key]
        frame.keys.add(key)
        frame.at = key
      }
      i = end
    } else if (c === 0x7b /* { */) {
      frames.push({ keys: new Set(), at: "" })
    } else if (c === 0x5b /* [ */) {
      frames.push({ keys: undefined, at: 0 })
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop()
    } else if (c === 0x2c /* , */) {
      const frame = frames[frames.length - 1]
      if (frame !== undefined && frame.keys === undefined) frame.at = (frame.at as number) + 1
    }
  }
  return undefined
}

const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/**
 * How many times a quote is followed by JSON whitespace and a colon in `text`: every key's
 * closing quote is, and so is an escaped quote in a string (`\":`), so never fewer than the keys
 * written. From quote to quote by `indexOf`: a regular expression over the whole line cost 20 to
 * 30 times as much on the import benchmark's corpus.
 */
const keyEndsIn = (text: string): number => {
  let ends = 0
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) {
    let next = i + 1
    while (isJsonSpace(text.charCodeAt(next))) next++
    if (text.charCodeAt(next) === 0x3a /* : */) ends++
  }
  return ends
}

/** How many keys `value` (parsed JSON) has in all its objects, found without recursion. */
const keysIn = (value: unknown): number => {
  let keys = 0
  const stack: Array<unknown> = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== "object" || v === null) continue
    const members = Array.isArray(v) ? v : Object.values(v)
    if (!Array.isArray(v)) keys += members.length
    for (const member of members) if (typeof member === "object" && member !== null) stack.push(member)
  }
  return keys
}

/**
 * `duplicateKeyOf(text)`, for `text` that `JSON.parse` read as `parsed`, scanned only when a key
 * may repeat: `parsed` has each key once, so as many key ends in `text` (`keyEndsIn`) as keys in
 * `parsed` is no key twice. The full scan reads every character in JavaScript, where this jumps
 * from quote to quote: the import checks every NDJSON line this way, and scans in full only a
 * line with a key twice or a string quoting one (`\":`).
 */
export const repeatedKeyOf = (text: string, parsed: unknown): ReadonlyArray<string | number> | undefined =>
  keyEndsIn(text) > keysIn(parsed) ? duplicateKeyOf(text) : undefined
