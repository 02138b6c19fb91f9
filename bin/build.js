// Bundles the CLI (src/bin.ts) and its render worker with esbuild into node_modules/.cache,
// once per version of the sources, so `inkwell` runs plain JavaScript instead of loading every
// module through tsx. Why: under tsx the idle CLI is ~280 MB of RSS and starts in ~3.5 s (each
// module transformed, with its source map, by tsx's loader); bundled it is ~130 MB and ~0.6 s,
// which leaves an import the memory to run with fewer collections (BENCHMARKS.md).
//
// The cache key covers every file under src/ (path, size, mtime) and the lockfile, so an edit
// rebuilds on the next run. Builds go to a temporary directory renamed into place: processes
// started together (tests) never see half a bundle. Returns undefined when esbuild cannot run;
// the launcher then falls back to tsx.
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"

// Native or optional modules stay outside the bundle and load from node_modules as usual.
const EXTERNAL = ["better-sqlite3", "esbuild", "pg-native", "@parcel/watcher", "msgpackr-extract", "fsevents", "playwright-core"]

// CommonJS dependencies (sanitize-html, postcss, pg) call `require`, which an ES module lacks.
const REQUIRE_SHIM =
  "import { createRequire as __inkwellRequire } from 'node:module'; const require = __inkwellRequire(import.meta.url);"

const sourceKey = (root) => {
  const hash = createHash("sha256")
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else {
        const { size, mtimeMs } = statSync(path)
        hash.update(`${relative(root, path)}\0${size}\0${mtimeMs}\n`)
      }
    }
  }
  walk(join(root, "src"))
  for (const file of ["package-lock.json", "bin/build.js"]) {
    const path = join(root, file)
    if (existsSync(path)) hash.update(`${file}\0${statSync(path).mtimeMs}\n`)
  }
  return hash.digest("hex").slice(0, 16)
}

/** The bundled entry (`<cache>/<key>/bin.js`), building it first if the sources changed. */
export const bundledCli = async (root) => {
  const cache = join(root, "node_modules", ".cache", "inkwell")
  const key = sourceKey(root)
  const dir = join(cache, key)
  const entry = join(dir, "bin.js")
  if (existsSync(entry)) return entry
  let esbuild
  try {
    esbuild = await import("esbuild")
  } catch {
    return undefined
  }
  const staging = join(cache, `${key}.${process.pid}.tmp`)
  try {
    // Inside the try: a node_modules the user cannot write to means tsx, not a crash.
    mkdirSync(cache, { recursive: true })
    rmSync(staging, { recursive: true, force: true })
    await esbuild.build({
      absWorkingDir: root,
      // Flat, side by side: RenderPool finds its worker as ./RenderWorker.js next to itself.
      entryPoints: [
        { in: "src/bin.ts", out: "bin" },
        { in: "src/Workers/RenderWorker.ts", out: "RenderWorker" }
      ],
      outdir: staging,
      bundle: true,
      splitting: false,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: "linked",
      external: EXTERNAL,
      banner: { js: REQUIRE_SHIM },
      logLevel: "silent"
    })
    writeFileSync(join(staging, "package.json"), '{ "type": "module" }\n')
    try {
      renameSync(staging, dir)
    } catch (error) {
      // Another process finished the same build first: use theirs.
      if (!existsSync(entry)) throw error
      rmSync(staging, { recursive: true, force: true })
    }
  } catch {
    try {
      rmSync(staging, { recursive: true, force: true })
    } catch {
      // Nothing was written.
    }
    return undefined
  }
  removeStale(cache, key)
  return entry
}

// Builds of older sources, kept an hour in case a process started from one still needs its worker file.
const removeStale = (cache, current) => {
  const hourAgo = Date.now() - 60 * 60 * 1000
  let names = []
  try {
    names = readdirSync(cache)
  } catch {
    return
  }
  for (const name of names) {
    if (name === current) continue
    const path = join(cache, name)
    try {
      if (statSync(path).mtimeMs < hourAgo) rmSync(path, { recursive: true, force: true })
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
