import { readdirSync } from "node:fs"
import { join } from "node:path"

/** Markdown files under `dir`, recursively, in name order (the order `inkwell import <dir>` reads them). */
export const markdownFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) return markdownFiles(path)
      return entry.isFile() && /\.(?:md|markdown)$/i.test(entry.name) ? [path] : []
    })
