/**
 * src/Cli/builtInOptions.js, the one list of @effect/cli's own options that Cli.ts and
 * bin/inkwell.js read, held to the list @effect/cli itself adds to every command: an upgrade that
 * adds, renames or changes one fails here rather than in a user's command line.
 */
import { BuiltInOptions, CommandDescriptor, HelpDoc, Options, Usage } from "@effect/cli"
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { builtInOptions } from "../../src/Cli/builtInOptions.js"
import { optionsFirst } from "../../src/Cli/Cli.js"

/** Every named option of `usage`: its names and, when it takes a value, the values it accepts. */
const named = (usage: Usage.Usage): Array<{ readonly names: ReadonlyArray<string>; readonly values: string | undefined }> => {
  switch (usage._tag) {
    case "Named":
      return [{ names: usage.names, values: Option.getOrUndefined(usage.acceptedValues) }]
    case "Optional":
    case "Repeated":
      return named(usage.usage)
    case "Alternation":
    case "Concat":
      return [...named(usage.left), ...named(usage.right)]
    case "Empty":
    case "Mixed":
      return []
  }
}

describe("@effect/cli's own options", () => {
  it("are the ones builtInOptions.js lists, with the same values", () => {
    const usage = Options.getUsage(BuiltInOptions.builtInOptions(CommandDescriptor.make("inkwell"), Usage.empty, HelpDoc.empty))
    const theirs = named(usage).flatMap(({ names, values }) => names.map((name) => [name, values] as const))
    const ours = builtInOptions.map(({ name, values }) => [name, values?.join(" | ")] as const)
    const byName = (a: readonly [string, unknown], b: readonly [string, unknown]) => a[0].localeCompare(b[0])
    assert.deepStrictEqual([...ours].sort(byName), [...theirs].sort(byName))
  })

  it("that take a value are read before the subcommand as after it, and the others are not", () => {
    const argv = (...rest: Array<string>) => ["node", "inkwell", ...rest]
    for (const { name, values } of builtInOptions) {
      const moved = optionsFirst(argv(name, values?.[0] ?? "import", "serve"))
      assert.deepStrictEqual(
        moved._tag === "Right" ? moved.right : moved.left.message,
        values === undefined ? argv(name, "import", "serve") : argv("serve", name, values[0]!),
        name
      )
    }
  })
})
