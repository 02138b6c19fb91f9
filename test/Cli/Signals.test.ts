/**
 * Counting SIGINT / SIGTERM / SIGHUP in the CLI: one press that reaches the CLI both from the OS
 * and relayed by bin/inkwell.js (a terminal's Ctrl-C reaches both processes) is one press; one
 * hangup is one stop however many SIGHUPs it comes as.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeSignalCounter, type Signal, type Source } from "../../src/Cli/Signals.js"

const counter = () => {
  const events: Array<string> = []
  const signals = makeSignalCounter({
    stop: (signal: Signal, source: Source) => events.push(`stop ${signal} ${source}`),
    exitNow: (signal: Signal) => events.push(`exit ${signal}`)
  })
  return { signals, events }
}

describe("makeSignalCounter", () => {
  it("one Ctrl-C seen from the OS and relayed by the wrapper stops once and does not exit", () => {
    for (const order of [["os", "relayed"], ["relayed", "os"]] as const) {
      const { events, signals } = counter()
      for (const source of order) signals.on("SIGINT", source)
      assert.deepStrictEqual(events, [`stop SIGINT ${order[0]}`], order.join(" then "))
      assert.strictEqual(signals.received(), "SIGINT")
    }
  })

  it("a second press exits at once, whichever way each copy came", () => {
    const terminal = counter()
    for (const source of ["os", "relayed", "os", "relayed"] as const) terminal.signals.on("SIGINT", source)
    assert.deepStrictEqual(terminal.events, ["stop SIGINT os", "exit SIGINT", "exit SIGINT"])

    const direct = counter()
    direct.signals.on("SIGTERM", "os")
    direct.signals.on("SIGINT", "os")
    assert.deepStrictEqual(direct.events, ["stop SIGTERM os", "exit SIGINT"])
    assert.strictEqual(direct.signals.received(), "SIGTERM", "the first signal decides the exit code of a graceful stop")

    const wrapped = counter()
    wrapped.signals.on("SIGTERM", "relayed")
    wrapped.signals.on("SIGTERM", "relayed")
    assert.deepStrictEqual(wrapped.events, ["stop SIGTERM relayed", "exit SIGTERM"])
  })

  it("a hangup is one stop however many SIGHUPs come (the shell's, the kernel's, the wrapper's); a later Ctrl-C exits at once", () => {
    // Counted as presses, the kernel's copy (sent once the shell has exited) exited at once: the
    // batch in flight rolled back, no summary.
    const closed = counter()
    for (const source of ["os", "relayed", "os", "relayed", "os"] as const) closed.signals.on("SIGHUP", source)
    assert.deepStrictEqual(closed.events, ["stop SIGHUP os"])
    assert.strictEqual(closed.signals.received(), "SIGHUP")
    closed.signals.on("SIGINT", "os")
    assert.deepStrictEqual(closed.events, ["stop SIGHUP os", "exit SIGINT"])

    const stopping = counter()
    stopping.signals.on("SIGINT", "os")
    stopping.signals.on("SIGHUP", "os")
    assert.deepStrictEqual(stopping.events, ["stop SIGINT os"], "the terminal closed while stopping: the same stop")
  })
})
