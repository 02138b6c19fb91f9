/**
 * The package ships its TypeScript sources (`exports` "." is `./src/index.ts`), so a host app
 * that imports "inkwell" typechecks Inkwell's own files under the host's compiler options, and
 * `skipLibCheck` does not apply to them. This compiles a small host file under the options of
 * the strictest common preset (@tsconfig/strictest) and expects no error in any file it reaches.
 */
import { assert, describe, it } from "@effect/vitest"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** @tsconfig/strictest, with the module settings the README's embedding section asks for. */
const strictestHost: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2022.d.ts"],
  types: ["node"],
  jsx: ts.JsxEmit.ReactJSX,
  jsxImportSource: "preact",
  strict: true,
  allowUnusedLabels: false,
  allowUnreachableCode: false,
  exactOptionalPropertyTypes: true,
  noFallthroughCasesInSwitch: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noPropertyAccessFromIndexSignature: true,
  noUncheckedIndexedAccess: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  checkJs: true,
  esModuleInterop: true,
  // As the preset has it: it skips .d.ts files only, never the .ts sources Inkwell ships.
  skipLibCheck: true,
  noEmit: true
}

// Inside the package, so "inkwell" resolves through package.json `exports` as it does for a host.
const hostFile = path.join(root, "strict-host.ts")
const hostSource = `import * as Inkwell from "inkwell"
export const exported: ReadonlyArray<string> = Object.keys(Inkwell)
`

const typecheckHost = () => {
  const host = ts.createCompilerHost(strictestHost)
  const getSourceFile = host.getSourceFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  const readFile = host.readFile.bind(host)
  host.getSourceFile = (name, version, ...rest) =>
    path.resolve(name) === hostFile ? ts.createSourceFile(name, hostSource, version) : getSourceFile(name, version, ...rest)
  host.fileExists = (name) => path.resolve(name) === hostFile || fileExists(name)
  host.readFile = (name) => (path.resolve(name) === hostFile ? hostSource : readFile(name))
  const program = ts.createProgram([hostFile], strictestHost, host)
  return {
    files: program.getSourceFiles().map((f) => path.relative(root, f.fileName)).filter((f) => f.startsWith("src/")),
    diagnostics: ts.getPreEmitDiagnostics(program)
  }
}

describe("a host with the strictest compiler options", () => {
  it("typechecks Inkwell's sources through \"inkwell\" without an error", { timeout: 120_000 }, () => {
    const { diagnostics, files } = typecheckHost()
    assert.include(files, "src/index.ts", "the host reached Inkwell's sources")
    const report = ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => "\n"
    })
    assert.strictEqual(report, "", `${diagnostics.length} errors under the host's options`)
  })
})
