import { OpenApi } from "@effect/platform"
import { InkwellApi } from "./src/Http/Api.js"
const doc: any = OpenApi.fromApi(InkwellApi as any)
for (const [p, ops] of Object.entries<any>(doc.paths)) for (const [m, op] of Object.entries<any>(ops)) console.log(m, p, Object.keys(op.responses ?? {}).join(","), (op.parameters ?? []).map((x: any) => x.in + ":" + x.name).join(","))
console.log(JSON.stringify(doc.paths["/tags"].get.responses["400"]), JSON.stringify(doc.paths["/posts"].get.responses["400"]).slice(0, 400))
