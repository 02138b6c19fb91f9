// The options @effect/cli adds to every command, in one place for the two readers that need them
// before @effect/cli sees a command line: src/Cli/Cli.ts checks command lines against them, and
// bin/inkwell.js skips their values to find the command (an import gets a heap cap). The launcher
// is plain JavaScript run by node before anything can load TypeScript (it is what starts the
// bundle, or tsx), so it cannot import Cli.ts: this module is plain JavaScript, its types in
// builtInOptions.d.ts. Not JSON: Node 20 flags JSON modules as experimental, with a warning on
// every run. test/Cli/BuiltInOptions.test.ts holds it to @effect/cli's own list.

/** Each option's name and, for one that takes a value, the values @effect/cli accepts. */
export const builtInOptions = [
  { name: "--help" },
  { name: "-h" },
  { name: "--version" },
  { name: "--wizard" },
  { name: "--completions", values: ["sh", "bash", "fish", "zsh"] },
  { name: "--log-level", values: ["all", "trace", "debug", "info", "warning", "error", "fatal", "none"] }
]
