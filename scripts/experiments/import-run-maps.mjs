// What an import run's per-post bookkeeping holds (BENCHMARKS.md session 9): 100k entries shaped
// like the bench's NDJSON import in the maps ImportPipeline keeps for a run (slug -> first identity
// and source; slug -> identity stored; source -> first identity), measured after a full collection.
//   node --expose-gc scripts/experiments/import-run-maps.mjs [count] claimed|owner|all
const n = Number(process.argv[2] ?? 100000)
const name = "/tmp/inkwell-bench-xyz/corpus-100000.ndjson"
const mode = process.argv[3]
globalThis.gc(); const before = process.memoryUsage().heapUsed
const claimed = new Map(), stored = new Map(), owner = new Map()
for (let i = 0; i < n; i++) {
  const slug = `some-post-title-about-rust-${i}-and-more-words`.slice(0) // ~45 chars
  const identity = `${name}:${i + 1}`
  const source = `${name}#${slug}`
  if (mode === "all" || mode === "claimed") claimed.set(slug, { identity, source })
  if (mode === "all") stored.set(slug, identity)
  if (mode === "all" || mode === "owner") owner.set(source, identity)
}
globalThis.gc(); const used = process.memoryUsage().heapUsed; console.log(claimed.size + stored.size + owner.size); console.log(mode, ((used - before) / 1e6).toFixed(1), "MB for", n)
