/**
 * Characters no document the site writes may carry: pages (HTML) and feeds and sitemaps (XML
 * 1.0). A post's body or summary, its title, a search query all come from outside, and U+0000,
 * U+0001, U+000B, U+0085 or U+FFFE in them went out as they were.
 */

/** U+FFFE and U+FFFF of every plane: noncharacters. */
const PLANE_ENDS = Array.from({ length: 17 }, (_, plane) => plane * 0x10000 + 0xfffe)
  .map((at) => `\\u{${at.toString(16)}}\\u{${(at + 1).toString(16)}}`)
  .join("")

/**
 * What HTML calls control characters and noncharacters in the input stream (each a parse
 * error: C0 controls but tab, line feed, form feed and carriage return; DEL and the C1 controls,
 * U+0085 among them; U+FDD0 to U+FDEF and every plane's last two), what XML 1.0 cannot hold at
 * all even escaped (the form feed too), and a surrogate half without its other half, which
 * neither can encode. Form feed goes from pages too: in a post it is noise, and one list serves both.
 */
const FORBIDDEN = new RegExp(`[\\0-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F\\uFDD0-\\uFDEF${PLANE_ENDS}]|[\\uD800-\\uDFFF]`, "gu")

/**
 * `text` with each character HTML and XML forbid (`FORBIDDEN`) replaced by U+FFFD; the rest as
 * it was. Replaced, not deleted: deleting joined what the sanitizer had checked apart. A link's
 * scheme is read after stripping only C0 controls and spaces, so `java\uFDD0script:` (or
 * `java&#x7f;script:`) was stored as a relative URL and came out of a page and a feed as
 * `javascript:`; `100v\u000Bh` passed the style filter's viewport-unit check and came out as `100vh`.
 */
export const withoutForbiddenChars = (text: string): string => text.replace(FORBIDDEN, "\uFFFD")
