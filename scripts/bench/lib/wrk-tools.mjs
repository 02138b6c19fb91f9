// Shared by the ad-hoc read-path tools (profile-server.mjs, pair-servers.mjs): the bench's seeded
// slugs as a wrk script, waiting for a server, a process's CPU time, requesting every post once.
import { readFileSync, writeFileSync } from "node:fs"

/** The seeded 10k posts' paths (`npm run bench -- http` seeds them). */
export const seededPaths = () =>
  JSON.parse(readFileSync("/tmp/inkwell-bench/posts-10000.responses.json", "utf8")).posts.map(([path]) => path)

/** Writes a wrk Lua script requesting a random one of `paths` each time. */
export const writeRandomPathScript = (file, paths) =>
  writeFileSync(file, `local paths = { ${paths.map((p) => JSON.stringify(p)).join(", ")} }
math.randomseed(os.time())
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
`)

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits (up to a minute) until GET `url` answers 2xx. */
export const waitFor = async (url, name = url) => {
  for (let i = 0; ; i++) {
    try {
      const response = await fetch(url)
      await response.arrayBuffer()
      if (response.ok) return
    } catch {}
    if (i > 600) throw new Error(`${name} did not start`)
    await sleep(100)
  }
}

/** utime + stime of process `pid` in clock ticks (100 per second; taskset's exec keeps the pid). */
export const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
  return Number(fields[11]) + Number(fields[12])
}

/** Requests every one of `paths` once, 8 at a time (a response cache then holds them all). */
export const requestEach = async (base, paths) => {
  let next = 0
  const worker = async () => {
    while (next < paths.length) await (await fetch(`${base}${paths[next++]}`)).arrayBuffer()
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}
