/**
 * Bodies of ~19 MB (just under FEED_MAX_BYTES) for the feed benchmarks (`bench-feed-decode.ts`,
 * `feed-sections.ts`, `feed-stalls.ts`): the largest a server reads, so the longest stretch of
 * each stage shows.
 */
export const SIZE = 19 * 1024 * 1024

/** `unit(i)` for i = 0, 1, … until SIZE characters, joined. */
export const fill = (unit: (i: number) => string, separator = ""): string => {
  const parts: Array<string> = []
  for (let size = 0, i = 0; size < SIZE; i++) {
    const part = unit(i)
    parts.push(part)
    size += part.length + separator.length
  }
  return parts.join(separator)
}

export const words = "words ".repeat(20)

export const rssItem = (i: number) =>
  `<item><guid>g-${i}</guid><title>Item ${i} café</title><link>/posts/${i}</link><description>&lt;p&gt;Text of item ${i}, <a href="/x/${i}">${words}</a>&lt;/p&gt;</description></item>\n`

export const atomEntry = (i: number) =>
  `<entry><id>urn:e:${i}</id><title>Item ${i} café</title><link href="/posts/${i}"/><updated>2024-01-01T00:00:00Z</updated><content type="html">&lt;p&gt;Text of item ${i}, ${words}&lt;/p&gt;</content></entry>\n`

export const jsonItem = (i: number) =>
  JSON.stringify({ id: `j-${i}`, url: `/posts/${i}`, title: `Item ${i} café`, content_html: `<p>Text of item ${i}, <a href="/x/${i}">${words}</a></p>` })

export const ghostPost = (i: number) =>
  JSON.stringify({ id: `p${i}`, uuid: `uuid-${i}`, title: `Post ${i} café`, slug: `post-${i}`, html: `<p>Text of post ${i}, ${words}</p>`, type: "post", status: "published", published_at: "2023-11-01T10:00:00.000Z" })
