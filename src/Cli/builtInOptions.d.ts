/** The options @effect/cli adds to every command (see builtInOptions.js, shared with bin/inkwell.js). */
export declare const builtInOptions: ReadonlyArray<{
  readonly name: string
  /** The values accepted, for an option that takes one. */
  readonly values?: ReadonlyArray<string>
}>
