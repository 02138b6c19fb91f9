/**
 * Readers: chunked bytes, strict UTF-8 with byte offsets, bounded lines, the markdown walker
 * (symlink loops, FIFOs, broken links), and file handles closed when a read is interrupted.
 */
import { execFileSync } from "node:child_process"
import { readdirSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs"
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, Layer, Stream } from "effect"
import { readBytes, readText, splitLinesUtf8, walkMarkdown } from "../../src/Import/FileSource.js"
import { tempDir, writeFiles } from "./harness.js"

const bytes = (...parts: Array<string | Array<number>>) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))))

const lines = (chunks: ReadonlyArray<Uint8Array | string>, max = 100) =>
  Stream.runCollect(
    Stream.fromIterable(chunks.map((c) => (typeof c === "string" ? bytes(c) : c))).pipe(splitLinesUtf8(max))
  ).pipe(Effect.map(Chunk.toReadonlyArray))

/** Open descriptors of this process pointing into `dir`. */
const openIn = (dir: string) =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)
    } catch {
      return false
    }
  }).length

describe("readBytes", () => {
  it.scoped("reads a file in chunks of the configured size", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "a.txt": "0123456789" })
      const chunks = yield* Stream.runCollect(readBytes(`${dir}/a.txt`, { chunkSize: 3 }))
      assert.deepStrictEqual(Chunk.toReadonlyArray(chunks).map((c) => c.length), [3, 3, 3, 1])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a missing file is a FileReadError naming the path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Stream.runDrain(readBytes("/nonexistent/post.md")))
      assert.strictEqual(error._tag, "FileReadError")
      assert.strictEqual(error.path, "/nonexistent/post.md")
      assert.match(error.message, /no such file/)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("interrupting a read closes the file handle", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "big.txt": "x".repeat(1024 * 1024) })
      const first = yield* Deferred.make<void>()
      const reader = yield* readBytes(`${dir}/big.txt`, { chunkSize: 1024 }).pipe(
        Stream.tap(() => Effect.zipRight(Deferred.succeed(first, undefined), Effect.never)),
        Stream.runDrain,
        Effect.fork
      )
      yield* Deferred.await(first)
      assert.strictEqual(openIn(dir), 1)
      yield* Fiber.interrupt(reader)
      assert.strictEqual(openIn(dir), 0)
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("splitLinesUtf8", () => {
  it.effect("decodes characters split across chunks", () =>
    Effect.gen(function*() {
      const all = bytes("héllo wörld 🎉")
      const result = yield* lines(Array.from({ length: all.length }, (_, i) => all.subarray(i, i + 1)))
      assert.deepStrictEqual(result, [{ _tag: "Line", number: 1, text: "héllo wörld 🎉" }])
    }))

  it.effect("numbers lines across chunks, strips CRLF and a leading BOM, keeps a last line without newline", () =>
    Effect.gen(function*() {
      const result = yield* lines([bytes([0xef, 0xbb, 0xbf], "one\r\ntw"), "o\n\nthr", "ee"])
      assert.deepStrictEqual(result, [
        { _tag: "Line", number: 1, text: "one" },
        { _tag: "Line", number: 2, text: "two" },
        { _tag: "Line", number: 3, text: "" },
        { _tag: "Line", number: 4, text: "three" }
      ])
    }))

  it.effect("a line over the limit is reported by number and length in bytes, and the next line still parses", () =>
    Effect.gen(function*() {
      const result = yield* lines(["short\n", "x".repeat(8), "x".repeat(8), "é".repeat(4), "\nafter\n"], 10)
      assert.deepStrictEqual(result, [
        { _tag: "Line", number: 1, text: "short" },
        { _tag: "LineTooLong", number: 2, length: 24 },
        { _tag: "Line", number: 3, text: "after" }
      ])
    }))

  it.effect("an invalid byte costs its own line only; its offset counts from the input's start, across chunks", () =>
    Effect.gen(function*() {
      const result = yield* lines([bytes("ab\n"), bytes("cé"), bytes("d", [0xff], "e\nnext\n"), bytes("last")])
      assert.deepStrictEqual(result, [
        { _tag: "Line", number: 1, text: "ab" },
        { _tag: "LineNotUtf8", number: 2, offset: 7 },
        { _tag: "Line", number: 3, text: "next" },
        { _tag: "Line", number: 4, text: "last" }
      ])
    }))

  it.effect("an invalid sequence split across chunks is reported at its first byte; so is one cut by the end of input", () =>
    Effect.gen(function*() {
      // "é" is C3 A9; C3 followed by "x" is invalid.
      assert.deepStrictEqual(yield* lines([bytes("abc", [0xc3]), bytes("x\nok")]), [
        { _tag: "LineNotUtf8", number: 1, offset: 3 },
        { _tag: "Line", number: 2, text: "ok" }
      ])
      assert.deepStrictEqual(yield* lines([bytes("ok\nabcd", [0xe2, 0x82])]), [
        { _tag: "Line", number: 1, text: "ok" },
        { _tag: "LineNotUtf8", number: 2, offset: 7 }
      ])
    }))
})

describe("walkMarkdown", () => {
  it.scoped("finds markdown files recursively in name order; passes over loops, FIFOs and broken links", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "b.md": "b",
        "a/x.markdown": "x",
        "a/deeper/index.md": "i",
        "notes.txt": "not markdown",
        "c/y.MD": "y"
      })
      symlinkSync(dir, `${dir}/a/loop`)
      symlinkSync(`${dir}/missing.md`, `${dir}/broken.md`)
      execFileSync("mkfifo", [`${dir}/pipe.md`])
      const entries = Chunk.toReadonlyArray(yield* Stream.runCollect(walkMarkdown(dir)))
      const files = entries.flatMap((e) => (e._tag === "File" ? [e.file.relativePath] : []))
      assert.deepStrictEqual(files, ["a/deeper/index.md", "a/x.markdown", "b.md", "c/y.MD"])
      const passed = entries.flatMap((e) => (e._tag === "Passed" ? [`${e.passed.path.slice(dir.length + 1)}: ${e.passed.reason}`] : []))
      assert.strictEqual(passed.length, 3)
      assert.match(passed.find((p) => p.startsWith("a/loop"))!, /symbolic link loop/)
      assert.match(passed.find((p) => p.startsWith("broken.md"))!, /no such file/)
      assert.match(passed.find((p) => p.startsWith("pipe.md"))!, /not a regular file \(FIFO\)/)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("symbolic links to directories: each real file once; a link into the tree, or a second link to the same outside directory, passed over naming the link", () =>
    Effect.gen(function*() {
      const base = yield* tempDir()
      const dir = `${base}/tree`
      yield* writeFiles(base, {
        "tree/a/one.md": "1",
        "tree/a/sub/two.md": "2",
        "tree/.hidden/kept.md": "k",
        "outside/x.md": "x",
        "outside-file.md": "o"
      })
      symlinkSync(`${dir}/a`, `${dir}/b`)
      // Sorted before the directory it leads to: still passed over, the posts read at their own path.
      symlinkSync(`${dir}/a/sub`, `${dir}/0-sub`)
      symlinkSync(`${dir}/a`, `${dir}/a/sub/up`)
      symlinkSync(`${base}/outside`, `${dir}/ext1`)
      symlinkSync(`${base}/outside`, `${dir}/ext2`)
      symlinkSync(`${dir}/a`, `${base}/outside/back`)
      // A hidden directory is not walked on its own: a link to it is the only way in.
      symlinkSync(`${dir}/.hidden`, `${dir}/shown`)
      symlinkSync(`${base}/outside-file.md`, `${dir}/single.md`)
      const entries = Chunk.toReadonlyArray(yield* Stream.runCollect(walkMarkdown(dir)))
      const files = entries.flatMap((e) => (e._tag === "File" ? [e.file.relativePath] : []))
      assert.deepStrictEqual(files, ["a/one.md", "a/sub/two.md", "ext1/x.md", "shown/kept.md", "single.md"])
      const passed = entries.flatMap((e) => (e._tag === "Passed" ? [[e.passed.path.slice(dir.length + 1), e.passed.reason, e.passed.failed]] : []))
      assert.deepStrictEqual(passed, [
        [".hidden", "hidden (name starts with a dot)", false],
        ["0-sub", "symbolic link to a/sub/, a directory of the tree walked on its own: its posts are read there", false],
        ["a/sub/up", "symbolic link loop", false],
        ["b", "symbolic link to a/, a directory of the tree walked on its own: its posts are read there", false],
        ["ext1/back", "symbolic link to a/, a directory of the tree walked on its own: its posts are read there", false],
        ["ext2", `the same directory as ${dir}/ext1, already walked`, false]
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("symbolic links to files: one read the walk makes elsewhere is skipped naming its target; an outside file is read once, through its first path", () =>
    Effect.gen(function*() {
      const base = yield* tempDir()
      const dir = `${base}/tree`
      yield* writeFiles(base, {
        "tree/posts/2024/real.md": "r",
        "tree/notes/plan.txt": "p",
        "tree/.drafts/draft.md": "d",
        "outside/x.md": "x",
        "outside/y.md": "y",
        "elsewhere/shared.md": "s"
      })
      // "latest" aliases, relative as people write them, sorted before and after their target.
      symlinkSync("2024/real.md", `${dir}/posts/0-latest.md`)
      symlinkSync("2024/real.md", `${dir}/posts/latest.md`)
      // A link to that link, and one through a linked directory: both lead to the same file.
      symlinkSync("latest.md", `${dir}/posts/newest.md`)
      symlinkSync(`${dir}/posts`, `${dir}/blog`)
      symlinkSync(`${dir}/blog/2024/real.md`, `${dir}/via-dir.md`)
      // The walk reads neither a .txt file nor a hidden one: reached only through these links.
      symlinkSync(`${dir}/notes/plan.txt`, `${dir}/plan.md`)
      symlinkSync(`${dir}/.drafts/draft.md`, `${dir}/draft.md`)
      // Outside: two links to one file; one link read before the directory holding its target is walked, one after.
      symlinkSync(`${base}/elsewhere/shared.md`, `${dir}/s1.md`)
      symlinkSync("../../elsewhere/shared.md", `${dir}/posts/s2.md`)
      symlinkSync(`${base}/outside/x.md`, `${dir}/0-x.md`)
      symlinkSync(`${base}/outside`, `${dir}/ext`)
      symlinkSync(`${base}/outside/y.md`, `${dir}/y.md`)
      const entries = Chunk.toReadonlyArray(yield* Stream.runCollect(walkMarkdown(dir)))
      const files = entries.flatMap((e) => (e._tag === "File" ? [e.file.relativePath] : []))
      assert.deepStrictEqual(files, ["0-x.md", "draft.md", "ext/y.md", "plan.md", "posts/2024/real.md", "posts/s2.md"])
      const passed = entries.flatMap((e) => (e._tag === "Passed" ? [[e.passed.path.slice(dir.length + 1), e.passed.reason, e.passed.failed]] : []))
      assert.deepStrictEqual(passed, [
        [".drafts", "hidden (name starts with a dot)", false],
        ["blog", "symbolic link to posts/, a directory of the tree walked on its own: its posts are read there", false],
        ["ext/x.md", `the same file as ${dir}/0-x.md, already read`, false],
        ["posts/0-latest.md", "symbolic link to posts/2024/real.md, a file of the tree read on its own", false],
        ["posts/latest.md", "symbolic link to posts/2024/real.md, a file of the tree read on its own", false],
        ["posts/newest.md", "symbolic link to posts/2024/real.md, a file of the tree read on its own", false],
        ["s1.md", `symbolic link to ${base}/elsewhere/shared.md, the same file as ${dir}/posts/s2.md, already read`, false],
        ["via-dir.md", "symbolic link to posts/2024/real.md, a file of the tree read on its own", false],
        ["y.md", `symbolic link to ${base}/outside/y.md, the same file as ${dir}/ext/y.md, read there`, false]
      ])
      // Named by the user, a link is read whatever it leads to.
      const named = Chunk.toReadonlyArray(yield* Stream.runCollect(walkMarkdown(`${dir}/posts/latest.md`)))
      assert.deepStrictEqual(named.map((e) => (e._tag === "File" ? e.file.relativePath : e.passed.reason)), ["latest.md"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("passes over hidden entries (.git, .github, .trash) as skipped; a hidden root or file named by the user is read", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "post.md": "p",
        ".github/ISSUE_TEMPLATE/bug.md": "template",
        ".trash/deleted.md": "deleted",
        ".draft.md": "hidden file",
        ".DS_Store": "junk",
        ".blog/inner.md": "i"
      })
      const walk = (root: string) => Stream.runCollect(walkMarkdown(root)).pipe(Effect.map(Chunk.toReadonlyArray))
      const entries = yield* walk(dir)
      assert.deepStrictEqual(entries.flatMap((e) => (e._tag === "File" ? [e.file.relativePath] : [])), ["post.md"])
      assert.deepStrictEqual(
        entries.flatMap((e) => (e._tag === "Passed" ? [[e.passed.path.slice(dir.length + 1), e.passed.reason, e.passed.failed]] : [])),
        [".blog", ".draft.md", ".github", ".trash"].map((name) => [name, "hidden (name starts with a dot)", false])
      )
      const named = [...(yield* walk(`${dir}/.blog`)), ...(yield* walk(`${dir}/.draft.md`))]
      assert.deepStrictEqual(named.flatMap((e) => (e._tag === "File" ? [e.file.relativePath] : [])), ["inner.md", ".draft.md"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("links that lead round to themselves (selfloop.md -> selfloop.md, a -> b -> a) are skipped as a symbolic link loop, not failed", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "ok.md": "ok" })
      symlinkSync("selfloop.md", `${dir}/selfloop.md`)
      symlinkSync("b", `${dir}/a`)
      symlinkSync("a", `${dir}/b`)
      const entries = Chunk.toReadonlyArray(yield* Stream.runCollect(walkMarkdown(dir)))
      assert.deepStrictEqual(entries.flatMap((e) => (e._tag === "File" ? [e.file.relativePath] : [])), ["ok.md"])
      assert.deepStrictEqual(
        entries.flatMap((e) => (e._tag === "Passed" ? [[e.passed.path.slice(dir.length + 1), e.passed.reason, e.passed.failed]] : [])),
        [["a", "symbolic link loop", false], ["b", "symbolic link loop", false], ["selfloop.md", "symbolic link loop", false]]
      )
      // Named by the user, it is what they asked for that cannot be read: a failure.
      const named = Chunk.toReadonlyArray(yield* Stream.runCollect(walkMarkdown(`${dir}/selfloop.md`)))
      assert.deepStrictEqual(named.map((e) => (e._tag === "Passed" ? e.passed.failed : "file")), [true])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a deep tree: the same walk, with the real path of each directory that is no link taken from its parent's, not resolved again", () =>
    Effect.gen(function*() {
      const base = yield* tempDir()
      const depth = 300
      const levels = Array.from({ length: depth }, (_, i) => Array(i + 1).fill("d").join("/"))
      yield* writeFiles(base, {
        ...Object.fromEntries(levels.filter((_, i) => i % 50 === 49).map((level) => [`tree/${level}/post.md`, "p"])),
        "outside/sub/x.md": "x"
      })
      const dir = `${base}/tree`
      const deep = `${dir}/${levels[199]}`
      // Deep down: a link back up (a loop), one out of the tree (walked), and one to a file of the tree.
      symlinkSync(`${dir}/${levels[9]}`, `${deep}/up`)
      symlinkSync(`${base}/outside`, `${deep}/ext`)
      symlinkSync(`${dir}/${levels[49]}/post.md`, `${deep}/alias.md`)
      const resolved: Array<string> = []
      const counting = Layer.effect(
        FileSystem.FileSystem,
        Effect.map(FileSystem.FileSystem, (fs) => ({ ...fs, realPath: (path: string) => Effect.tap(fs.realPath(path), () => resolved.push(path)) }))
      )
      const entries = Chunk.toReadonlyArray(yield* Stream.runCollect(walkMarkdown(dir)).pipe(Effect.provide(counting)))
      assert.deepStrictEqual(
        entries.flatMap((e) => (e._tag === "File" ? [e.file.relativePath] : [])),
        // Name order, depth first: "d" before "ext" before "post.md".
        [...[300, 250].map((n) => `${levels[n - 1]}/post.md`), `${levels[199]}/ext/sub/x.md`, ...[200, 150, 100, 50].map((n) => `${levels[n - 1]}/post.md`)]
      )
      assert.deepStrictEqual(
        entries.flatMap((e) => (e._tag === "Passed" ? [[e.passed.path.slice(dir.length + 1), e.passed.reason]] : [])),
        [
          [`${levels[199]}/alias.md`, `symbolic link to ${levels[49]}/post.md, a file of the tree read on its own`],
          [`${levels[199]}/up`, "symbolic link loop"]
        ]
      )
      // The root, and the links: not each of the 300 directories.
      assert.deepStrictEqual([...resolved].sort(), [dir, `${deep}/alias.md`, `${deep}/ext`].sort())
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a markdown file whose name is not UTF-8 fails by name, instead of being skipped as missing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "ok.md": "ok" })
      // "café.md" in Latin-1: Node lists it with U+FFFD and cannot open it by that name.
      writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from(".md")]), "x")
      const entries = Chunk.toReadonlyArray(yield* Stream.runCollect(walkMarkdown(dir)))
      assert.deepStrictEqual(entries.flatMap((e) => (e._tag === "File" ? [e.file.relativePath] : [])), ["ok.md"])
      const passed = entries.flatMap((e) => (e._tag === "Passed" ? [e.passed] : []))
      assert.strictEqual(passed.length, 1)
      assert.strictEqual(passed[0]!.path, `${dir}/caf\uFFFD.md`)
      assert.isTrue(passed[0]!.failed, "a post left out is a failure")
      assert.match(passed[0]!.reason, /not valid UTF-8/)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("readText refuses a file over the size limit without reading it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "big.md": "y".repeat(2048) })
      const error = yield* Effect.flip(readText(`${dir}/big.md`, { maxBytes: 1024 }))
      assert.match(error.message, /too large: 2048 bytes \(limit 1024\)/)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("readText returns the whole text, drops a BOM, and reports bad bytes by offset and a missing file by path", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const text = "# Title\n\nnaïve café 🎉\n".repeat(500)
      yield* writeFiles(dir, {
        "post.md": text,
        "empty.md": "",
        "bom.md": bytes([0xef, 0xbb, 0xbf], "hi"),
        "bad.md": bytes("ok ", [0xc3, 0x28], " more")
      })
      const whole = yield* readText(`${dir}/post.md`, { maxBytes: 1 << 20 })
      assert.strictEqual(whole.text, text)
      assert.strictEqual(whole.bytes, Buffer.byteLength(text))
      const empty = yield* readText(`${dir}/empty.md`, { maxBytes: 1024 })
      assert.deepStrictEqual(empty, { text: "", bytes: 0 })

      assert.strictEqual((yield* readText(`${dir}/bom.md`, { maxBytes: 1024 })).text, "hi")
      const error = yield* Effect.flip(readText(`${dir}/bad.md`, { maxBytes: 1024 }))
      assert.strictEqual(error._tag, "InvalidUtf8")
      assert.strictEqual(error._tag === "InvalidUtf8" ? error.offset : -1, 3)
      const missing = yield* Effect.flip(readText(`${dir}/nope.md`, { maxBytes: 1024 }))
      assert.match(missing.message, /nope\.md/)
    }).pipe(Effect.provide(NodeContext.layer)))
})
