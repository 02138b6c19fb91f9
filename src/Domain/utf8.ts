/**
 * UTF-8 validation with byte offsets, whole or a chunk at a time. Of no layer: files, request
 * bodies, remote feeds and Ghost exports check their bytes alike, and none depends on another's
 * module for it.
 */
import { isUtf8 } from "node:buffer"

/**
 * Offset of the first byte of the first invalid or truncated UTF-8 sequence in `bytes`, or -1.
 * Follows the WHATWG decoder: no overlongs, no surrogates, nothing above U+10FFFF.
 */
export const findInvalidUtf8 = (bytes: Uint8Array): number => {
  const n = bytes.length
  let i = 0
  while (i < n) {
    const b = bytes[i]!
    if (b < 0x80) {
      i++
      continue
    }
    let need: number
    let lo = 0x80
    let hi = 0xbf
    if (b >= 0xc2 && b <= 0xdf) need = 1
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      if (b === 0xe0) lo = 0xa0
      if (b === 0xed) hi = 0x9f
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      if (b === 0xf0) lo = 0x90
      if (b === 0xf4) hi = 0x8f
    } else return i
    if (i + need >= n) return i
    const second = bytes[i + 1]!
    if (second < lo || second > hi) return i
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!
      if (c < 0x80 || c > 0xbf) return i
    }
    i += need + 1
  }
  return -1
}

/** How many bytes at the end of `bytes` begin a multi-byte sequence that more bytes may complete. */
export const openUtf8Sequence = (bytes: Uint8Array): number => {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!
    if (b >= 0x80 && b < 0xc0) continue
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
    return length > back ? back : 0
  }
  return 0
}

/**
 * Cuts bytes that come a chunk at a time at sequence boundaries, so that a sequence split between
 * chunks is judged once, whole: `write` answers the bytes up to the end of the last complete
 * sequence, holding back a sequence the next chunk may complete; `end` answers what is still held
 * (a sequence cut off, empty if none).
 */
export const utf8Carry = () => {
  let open: Uint8Array = new Uint8Array(0)
  return {
    write: (chunk: Uint8Array): Uint8Array => {
      const bytes = open.length === 0 ? chunk : Buffer.concat([open, chunk])
      const pending = openUtf8Sequence(bytes)
      // A copy of the few bytes (Buffer's own slice is a view): what is held keeps no chunk alive.
      open = pending === 0 ? new Uint8Array(0) : Uint8Array.prototype.slice.call(bytes, bytes.length - pending)
      return bytes.subarray(0, bytes.length - pending)
    },
    end: (): Uint8Array => {
      const rest = open
      open = new Uint8Array(0)
      return rest
    }
  }
}

/**
 * Checks bytes for UTF-8 as they come, a chunk at a time, without holding them: a sequence
 * split between chunks is checked once the next chunk completes it (`utf8Carry`). `write` and
 * `end` answer the offset (from the first byte written) of the first byte that is not UTF-8, or
 * -1; once one has answered an offset, the checker is done.
 */
export const utf8Checker = () => {
  const carry = utf8Carry()
  /** Bytes checked, before what `carry` holds. */
  let checked = 0
  return {
    write: (chunk: Uint8Array): number => {
      const complete = carry.write(chunk)
      // The native check first: the byte loop only to say where, once something is wrong.
      const at = isUtf8(complete) ? -1 : findInvalidUtf8(complete)
      if (at !== -1) return checked + at
      checked += complete.length
      return -1
    },
    /** A sequence still open at the end is cut off. */
    end: (): number => (carry.end().length === 0 ? -1 : checked)
  }
}
