/**
 * Reading an HTML document's attributes where they are written, with htmlparser2's tokenizer:
 * for code that rewrites attribute values in place (links made absolute for feeds, Zola's
 * internal links made post addresses) and must leave every other character as written.
 */
import type { QuoteType, TokenizerCallbacks } from "htmlparser2"

const ignored = () => {}

/**
 * An HTML tokenizer's callbacks where only what `callbacks` names is read (tags, attributes):
 * the rest (text, comments, entities...) is passed over.
 */
export const attributeTokens = (callbacks: Partial<TokenizerCallbacks>): TokenizerCallbacks => ({
  onattribdata: ignored,
  onattribentity: ignored,
  onattribend: ignored,
  onattribname: ignored,
  oncdata: ignored,
  onclosetag: ignored,
  oncomment: ignored,
  ondeclaration: ignored,
  onend: ignored,
  onopentagend: ignored,
  onopentagname: ignored,
  onprocessinginstruction: ignored,
  onselfclosingtag: ignored,
  ontext: ignored,
  ontextentity: ignored,
  ...callbacks
})

/**
 * A tokenizer's attribute callbacks, read as whole attributes: `onAttribute` is told each one's
 * name (lower case), where its value sits in `source` (`[valueStart, valueEnd)`, -1 for none: a
 * value may come in several pieces, entities or the end of a written slice among them), its quote
 * and where it ends. `source` is all the tokenizer was given, as its positions count from there.
 */
export const attributeSpans = (
  source: string,
  onAttribute: (name: string, valueStart: number, valueEnd: number, quote: QuoteType, end: number) => void
): Pick<TokenizerCallbacks, "onattribname" | "onattribdata" | "onattribend"> => {
  let name = ""
  let valueStart = -1
  let valueEnd = -1
  return {
    onattribname: (start, end) => {
      name = source.slice(start, end).toLowerCase()
      valueStart = -1
    },
    onattribdata: (start, end) => {
      if (valueStart === -1) valueStart = start
      valueEnd = end
    },
    onattribend: (quote, end) => {
      onAttribute(name, valueStart, valueEnd, quote, end)
      name = ""
      valueStart = -1
    }
  }
}
