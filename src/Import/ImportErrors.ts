/**
 * Errors of the import readers and the bounded processor. Internal (`Data.TaggedError`): the
 * pipeline turns each into a reported failure naming the file (and line or byte offset).
 */
import { Data } from "effect"

/** A file or directory could not be opened or read. */
export class FileReadError extends Data.TaggedError("FileReadError")<{
  readonly path: string
  readonly reason: string
}> {
  override get message() {
    return `${this.path}: ${this.reason}`
  }
}

/**
 * Bytes that are not UTF-8, at `offset` (0-based, from the start of the file), on `line`
 * (1-based) when known: an editor goes to a line, not to a byte.
 */
export class InvalidUtf8 extends Data.TaggedError("InvalidUtf8")<{
  readonly path: string
  readonly offset: number
  readonly line?: number
}> {
  override get message() {
    return `${this.path}${this.line === undefined ? "" : `:${this.line}`}: invalid UTF-8 at byte offset ${this.offset}`
  }
}

/** `Processor.trySubmit` found the input queue full. */
export class BufferFull extends Data.TaggedError("BufferFull")<{ readonly capacity: number }> {
  override get message() {
    return `the input buffer is full (capacity ${this.capacity})`
  }
}

/** The processor no longer accepts items: it was shut down. */
export class ProcessorShutdown extends Data.TaggedError("ProcessorShutdown")<{}> {
  override get message() {
    return "the processor has been shut down"
  }
}
