/**
 * Which addresses a server-side fetch may connect to. `POST /posts/import-url` fetches what a
 * caller names; without this, an editor's key could read the server's own network (a database
 * on 127.0.0.1, cloud credentials at 169.254.169.254, anything on 10.x) and have the start of
 * the body quoted back in a decode error.
 *
 * The check is made on the address actually connected to: `guardedLookup` is the `lookup` of
 * the Node agents the guarded client uses, so a name that resolves to a public address when
 * checked and to 127.0.0.1 when connected (DNS rebinding) is refused all the same. A literal IP
 * is never looked up by Node, so the client checks it itself (`literalRefusal`) on every hop.
 */
import { Effect } from "effect"
import * as Dns from "node:dns"
import type { LookupFunction } from "node:net"
import { isIP } from "node:net"

/** The kind of address refused, as a message says it ("a loopback address"). */
export type RefusedKind =
  | "loopback"
  | "private"
  | "link-local"
  | "unspecified"
  | "multicast"
  | "shared (CGNAT)"
  | "broadcast"
  | "reserved"

/** "a loopback address", "an unspecified address": `kind` as a message says it, with its article. */
export const anAddress = (kind: string): string => `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind} address`

const ipv4Octets = (address: string): [number, number, number, number] | undefined => {
  const parts = address.split(".")
  if (parts.length !== 4) return undefined
  const octets = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : NaN))
  return octets.every((o) => o >= 0 && o <= 255) ? (octets as [number, number, number, number]) : undefined
}

const ipv4Kind = ([a, b, c, d]: [number, number, number, number]): RefusedKind | undefined => {
  if (a === 127) return "loopback"
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private"
  if (a === 169 && b === 254) return "link-local"
  // 0.0.0.0/8 is "this network": connecting to 0.0.0.0 reaches the host itself on Linux.
  if (a === 0) return "unspecified"
  if (a >= 224 && a <= 239) return "multicast"
  if (a === 100 && b >= 64 && b <= 127) return "shared (CGNAT)"
  if (a === 255 && b === 255 && c === 255 && d === 255) return "broadcast"
  // Protocol assignments (192.0.0/24), benchmarking (198.18/15, which fake-IP proxies hand out)
  // and the reserved 240/4: none is a public web server.
  if ((a === 192 && b === 0 && c === 0) || (a === 198 && (b === 18 || b === 19)) || a >= 240) return "reserved"
  return undefined
}

/** An IPv6 address as its 8 groups, the dotted IPv4 tail of a mapped address expanded; undefined if malformed. */
const ipv6Groups = (address: string): Array<number> | undefined => {
  let text = address.toLowerCase()
  const zone = text.indexOf("%")
  if (zone >= 0) text = text.slice(0, zone)
  const lastColon = text.lastIndexOf(":")
  const tail = text.slice(lastColon + 1)
  if (tail.includes(".")) {
    const octets = ipv4Octets(tail)
    if (octets === undefined) return undefined
    text = `${text.slice(0, lastColon + 1)}${((octets[0] << 8) | octets[1]).toString(16)}:${((octets[2] << 8) | octets[3]).toString(16)}`
  }
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)))
  const head = parse(halves[0]!)
  const rest = halves.length === 2 ? parse(halves[1]!) : []
  const missing = 8 - head.length - rest.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest]
  return groups.some(Number.isNaN) ? undefined : groups
}

/**
 * Why `address` (an IP, v4 or v6) may not be fetched from by the server, or undefined when it
 * may. An IPv4-mapped (`::ffff:127.0.0.1`) or IPv4-compatible (`::127.0.0.1`) address is judged
 * by its IPv4 part: the kernel connects to that.
 */
export const refusedKind = (address: string): RefusedKind | undefined => {
  const v4 = ipv4Octets(address)
  if (v4 !== undefined) return ipv4Kind(v4)
  const groups = ipv6Groups(address)
  // Not an IP at all: nothing to judge here (the caller only passes what `isIP` accepted).
  if (groups === undefined) return undefined
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number]
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 0) return "unspecified"
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 1) return "loopback"
  const embedded = (high: number, low: number) => {
    return ipv4Kind([high >> 8, high & 0xff, low >> 8, low & 0xff])
  }
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d),
  // NAT64 (64:ff9b::/96 and 64:ff9b:1::/48, which reach the IPv4 network on IPv6-only subnets)
  // and 6to4 (2002:AABB:CCDD::/48): judged by the IPv4 address inside, which is what is reached.
  if (zeroPrefix && (g5 === 0xffff || g5 === 0)) return embedded(g6, g7)
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return embedded(g6, g7)
  if (g0 === 0x64 && g1 === 0xff9b && (g2 === 0 || g2 === 1)) return embedded(g6, g7)
  if (g0 === 0x2002) return embedded(g1, g2)
  // Teredo (2001::/32) tunnels to an IPv4 address written obfuscated: refused whatever it holds.
  if (g0 === 0x2001 && g1 === 0) return "reserved"
  if ((g0 & 0xfe00) === 0xfc00) return "private"
  if ((g0 & 0xffc0) === 0xfe80) return "link-local"
  // fec0::/10, the deprecated site-local range: private in all but name.
  if ((g0 & 0xffc0) === 0xfec0) return "private"
  if ((g0 & 0xff00) === 0xff00) return "multicast"
  return undefined
}

/** A literal IP host of `url` that may not be fetched from: the address and why; undefined otherwise. */
/** `url`'s host as an address would be written: an IPv6 literal without its brackets. */
const hostOf = (url: URL): string => (url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname)

export const literalRefusal = (url: URL): { readonly address: string; readonly kind: RefusedKind } | undefined => {
  const host = hostOf(url)
  if (isIP(host) === 0) return undefined
  const kind = refusedKind(host)
  return kind === undefined ? undefined : { address: host, kind }
}

/** What `guardedLookup` fails a connection with; the client turns it into a `DestinationRefused`. */
export class RefusedAddressError extends Error {
  readonly code = "EINKWELL_DESTINATION_REFUSED"
  constructor(readonly hostname: string, readonly address: string, readonly kind: RefusedKind) {
    super(`${hostname} resolves to ${address}, ${anAddress(kind)}`)
    this.name = "RefusedAddressError"
  }
}

/**
 * `dns.lookup`, refusing a name when any of its addresses is refused: Node may try them in
 * turn (autoSelectFamily), and an attacker's name could list a public address first.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  Dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error !== null) return callback(error, "", 0)
    const refused = addresses.flatMap((entry) => {
      const kind = refusedKind(entry.address)
      return kind === undefined ? [] : [{ address: entry.address, kind }]
    })
    if (refused.length > 0) return callback(new RefusedAddressError(hostname, refused[0]!.address, refused[0]!.kind), "", 0)
    if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0)
    if (options.all === true) return callback(null, addresses)
    return callback(null, addresses[0]!.address, addresses[0]!.family)
  })
}

/**
 * Resolves `url`'s host as a connection would and says whether it may be fetched from (a
 * preflight): the refused address and why, or undefined.
 */
export const resolveRefusal = (url: URL): Effect.Effect<{ readonly address: string; readonly kind: RefusedKind } | undefined> => {
  if (isIP(hostOf(url)) !== 0) return Effect.succeed(literalRefusal(url))
  return Effect.async((resume) =>
    guardedLookup(url.hostname, { all: true }, (error) =>
      // Only a refusal counts here: a name that does not resolve fails later, when fetched.
      resume(Effect.succeed(error instanceof RefusedAddressError ? { address: error.address, kind: error.kind } : undefined))
    )
  )
}
