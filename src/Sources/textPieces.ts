/**
 * A text kept as the pieces it was decoded in (`markedBodyPiecesInSteps`), read through the few
 * string methods its readers use. Joined, the pieces of a 19 MB body were copied in one call, the
 * longest single step of decoding it (11 to 13 ms alone on a 2-core machine, the 19 MB string
 * allocated at once besides): a reader that goes through the text a slice at a time (`readJson`)
 * never needs it whole.
 */
export class TextPieces {
  /** The text's length in UTF-16 units, as a string's. */
  readonly length: number
  /** Where each piece starts in the text. */
  private readonly starts: Array<number>
  /** The piece the last look-up found: a reader goes through the text in order. */
  private last = 0

  constructor(readonly pieces: ReadonlyArray<string>) {
    this.starts = []
    let length = 0
    for (const piece of pieces) {
      this.starts.push(length)
      length += piece.length
    }
    this.length = length
  }

  /** A string as one piece. */
  static of(text: string): TextPieces {
    return new TextPieces([text])
  }

  /** The piece `index` is in (0 ≤ index < length). */
  private pieceAt(index: number): number {
    const { starts } = this
    let i = this.last
    if (starts[i]! > index || (i + 1 < starts.length && starts[i + 1]! <= index)) {
      let lo = 0
      let hi = starts.length - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (starts[mid]! <= index) lo = mid
        else hi = mid - 1
      }
      i = lo
    }
    this.last = i
    return i
  }

  /** As `String.prototype.slice` with indexes from 0 to `length` (others are clamped to them). */
  slice(start: number, end: number = this.length): string {
    const from = Math.max(0, Math.min(start, this.length))
    const to = Math.max(from, Math.min(end, this.length))
    if (from === to) return ""
    const first = this.pieceAt(from)
    const firstStart = this.starts[first]!
    const firstPiece = this.pieces[first]!
    if (to <= firstStart + firstPiece.length) return firstPiece.slice(from - firstStart, to - firstStart)
    const parts = [firstPiece.slice(from - firstStart)]
    for (let i = first + 1; i < this.pieces.length && this.starts[i]! < to; i++) parts.push(this.pieces[i]!.slice(0, to - this.starts[i]!))
    return parts.join("")
  }

  charCodeAt(index: number): number {
    if (!(index >= 0 && index < this.length)) return Number.NaN
    const i = this.pieceAt(index)
    return this.pieces[i]!.charCodeAt(index - this.starts[i]!)
  }

  charAt(index: number): string {
    return index >= 0 && index < this.length ? this.slice(index, index + 1) : ""
  }

  /** As `String.prototype.codePointAt`: a surrogate pair is read whole, whichever pieces its halves are in. */
  codePointAt(index: number): number | undefined {
    return index >= 0 && index < this.length ? this.slice(index, index + 2).codePointAt(0) : undefined
  }

  /**
   * Where the first character `String.prototype.trimStart` keeps is (it and `\s` agree on what is
   * white space), or -1 when there is none.
   */
  firstNonSpace(): number {
    for (let i = 0; i < this.pieces.length; i++) {
      const at = this.pieces[i]!.search(/\S/)
      if (at !== -1) return this.starts[i]! + at
    }
    return -1
  }

  /** The pieces joined: one copy of the whole text, for a reader that needs it as one string. */
  joined(): string {
    return this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join("")
  }

  /** "line L, column C" (both from 1) of the character at `index`, as `lineColumn` counts them in the joined text. */
  lineColumn(index: number): string {
    const at = Math.max(0, Math.min(index, this.length))
    let line = 1
    let lineStart = 0
    for (let i = 0; i < this.pieces.length && this.starts[i]! < at; i++) {
      const piece = this.pieces[i]!
      const start = this.starts[i]!
      for (let nl = piece.indexOf("\n"); nl !== -1 && start + nl < at; nl = piece.indexOf("\n", nl + 1)) {
        line++
        lineStart = start + nl + 1
      }
    }
    return `line ${line}, column ${at - lineStart + 1}`
  }
}
