/**
 * `Content-Encoding: deflate` as browsers read it. RFC 9110 (8.4.1.2) says zlib-wrapped DEFLATE
 * (RFC 1950), but servers (old IIS, hand-rolled ones) send it raw (RFC 1951), and browsers take
 * both, telling them apart by the first two bytes: a zlib header names method 8 and is a
 * multiple of 31. Read as zlib only, a raw body was refused as undecodable.
 */
import { Duplex, pipeline, Readable } from "node:stream"
import * as Zlib from "node:zlib"

/** Whether `head` begins a zlib stream (RFC 1950 2.2: CM = 8, CMF·256 + FLG a multiple of 31). */
const isZlibHeader = (head: Uint8Array): boolean =>
  head.length >= 2 && (head[0]! & 0x0f) === 8 && ((head[0]! << 8) | head[1]!) % 31 === 0

/** A decoder of either kind of `deflate` body, chosen by its first two bytes. */
export const deflateDecoder = (): Duplex =>
  Duplex.from(async function*(source: AsyncIterable<Uint8Array>) {
    const input = source[Symbol.asyncIterator]()
    const head: Array<Uint8Array> = []
    let size = 0
    let ended = false
    while (size < 2) {
      const next = await input.next()
      if (next.done === true) {
        ended = true
        break
      }
      head.push(next.value)
      size += next.value.length
    }
    const start = Buffer.concat(head)
    const inflate = isZlibHeader(start) ? Zlib.createInflate() : Zlib.createInflateRaw()
    const rest = async function*() {
      yield start
      while (!ended) {
        const next = await input.next()
        if (next.done === true) return
        yield next.value
      }
    }
    const body = Readable.from(rest())
    // An error on either side destroys both; `inflate`'s ends the loop below with it.
    pipeline(body, inflate, () => {})
    try {
      for await (const chunk of inflate) yield chunk as Uint8Array
    } finally {
      // Stopped early (the size limit, an interrupted attempt): nothing more is read or inflated.
      body.destroy()
      inflate.destroy()
    }
  })
