/**
 * Database failures read for what they say: whether the database cannot be reached (nothing
 * about the statement), worth a 503 and a retry where a statement the database refused is a
 * 500. What caused them, for a log line, is `describeFailure` (src/Domain/describeFailure.ts).
 */

import { causeChain } from "../Domain/describeFailure.js"


/** Node's socket errors: the server refused, reset, or is not there. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"])

/**
 * PostgreSQL's: too many connections (53300), the server shutting down or starting up
 * (57P01-57P03), and the connection-exception class (08...).
 */
const isUnreachableSqlState = (code: string) =>
  code === "53300" || code === "57P01" || code === "57P02" || code === "57P03" || code.startsWith("08")

/**
 * pg's own errors carry no code: a connection closed under a statement ("Connection terminated
 * unexpectedly", "... due to connection timeout"), a statement sent on a connection already known
 * to be broken (killed between two statements of a transaction), pg-pool's connect timeout, and
 * the client's own statement deadline (`query_timeout`: a connection that stopped answering).
 */
const UNREACHABLE_MESSAGE =
  /^Connection terminated|^Client has encountered a connection error and is not queryable|^timeout exceeded when trying to connect|^Query read timeout/

const describes = (error: unknown): boolean => {
  if (typeof error !== "object" || error === null) return false
  const { code, message, errors } = error as { readonly code?: unknown; readonly message?: unknown; readonly errors?: unknown }
  if (typeof code === "string" && (SOCKET_CODES.has(code) || isUnreachableSqlState(code))) return true
  if (typeof message === "string" && UNREACHABLE_MESSAGE.test(message)) return true
  // A host with several addresses (localhost: ::1 and 127.0.0.1) is refused on each: an AggregateError.
  return Array.isArray(errors) && errors.length > 0 && errors.every(describes)
}

/**
 * `cause` (a `DatabaseError`'s: the driver's `SqlError`, whose `cause` is pg's error) or anything
 * it was caused by says the database cannot be reached.
 */
export const isUnreachable = (cause: unknown): boolean => causeChain(cause).some(describes)
