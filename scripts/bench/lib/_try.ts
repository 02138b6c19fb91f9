import { defaults, run } from "../http.js"
import { render } from "./table.js"
const rows = await run(defaults(process.argv.slice(2)))
console.log(render(rows))
