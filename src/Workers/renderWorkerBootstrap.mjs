// Entry of a render worker thread when Inkwell runs from its TypeScript sources (tsx, vitest):
// `--import tsx` in a worker's execArgv is not honoured by Node 20, so the worker registers
// tsx's loader itself, then loads the worker module.
import { register } from "tsx/esm/api"

register()
await import("./RenderWorker.ts")
