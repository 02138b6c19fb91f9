/**
 * Database failures read for what they say, one list per meaning, for every caller (the API,
 * the reader site, `/ready`, the import, the pool and the repository):
 *
 *   - `isUnreachable`: the database cannot be reached, refuses the login, or refuses writes as
 *     read-only (nothing about the statement);
 *   - `isBusy`: it is there, but did not do it in time: a lock not had (SQLite's write lock,
 *     PostgreSQL's lock_timeout), the statement timeout, a conflict with another transaction;
 *   - `isConflict`: of those, the ones a transaction may simply be run again for, at once.
 *
 * The first two are failures of the moment (`transience`): a 503 with Retry-After, an import
 * batch not split post by post. Anything else is a statement the database refused: a 500. A
 * `PoolTimeout` (no connection free in time) is busy. What caused a failure, for a log line, is
 * `describeFailure` (src/Domain/describeFailure.ts).
 */

import { Predicate } from "effect"
import { causeChain, hasCode } from "../Domain/describeFailure.js"
import type { DatabaseError, RepositoryError } from "../Domain/Errors.js"

/**
 * Whether a failure is a `DatabaseError`, whose `cause` the functions below read. By tag, not
 * class: a repository an embedding app supplies fails with its own decoded copies.
 */
export const isDatabaseError = (u: unknown): u is DatabaseError => Predicate.isTagged(u, "DatabaseError")

/** Node's socket errors: the server refused, reset, or is not there. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"])

/**
 * PostgreSQL's: too many connections (53300), the server shutting down or starting up
 * (57P01-57P03), the connection-exception class (08...), and a write refused by a server that
 * takes none (25006, read_only_sql_transaction: a primary demoted by a failover that the
 * address has not followed yet, or a standby reached by mistake): no writable database there,
 * for now, whatever the statement; a 500 said it was the statement's fault.
 */
const UNREACHABLE_STATES = new Set(["53300", "57P01", "57P02", "57P03", "25006"])

/** read_only_sql_transaction, of those. */
const READ_ONLY = "25006"

/**
 * PostgreSQL's invalid_authorization_specification class (28000: a role that may not log in, no
 * pg_hba.conf entry; 28P01: a wrong password), said only as a session starts: the database
 * refuses this process's login, whatever the statement. At start it stops the server (the line
 * names user and host); under a running server (a password changed, a role altered) every new
 * connection is refused until DATABASE_URL or the role is mended: unreachable, a 503, where a
 * 500 said it was the statement's fault.
 */
const LOGIN_REFUSED_CLASS = "28"

/**
 * PostgreSQL's 55000 (object not in prerequisite state) ends a session only as it starts, when
 * the database refuses connections (`ALTER DATABASE ... ALLOW_CONNECTIONS false`, during a
 * maintenance); said of a statement it is the statement's own fault.
 */
const REFUSES_CONNECTIONS = "55000"

/**
 * pg's own errors carry no code: a connection closed under a statement ("Connection terminated
 * unexpectedly", "... due to connection timeout"), a statement sent on a connection already known
 * to be broken (killed between two statements of a transaction), pg-pool's connect timeout, and
 * the client's own statement deadline (`query_timeout`: a connection that stopped answering).
 */
const UNREACHABLE_MESSAGE =
  /^Connection terminated|^Client has encountered a connection error and is not queryable|^timeout exceeded when trying to connect|^Query read timeout/

/** PostgreSQL's serialization_failure and deadlock_detected: the transaction was rolled back, and may be run again. */
const CONFLICT_STATES = new Set(["40001", "40P01"])

/**
 * PostgreSQL's statement timeout (57014, query_canceled: DB_STATEMENT_TIMEOUT, a lock waited for
 * that long) and lock_timeout (55P03), besides the conflicts. SQLite's are its BUSY and LOCKED
 * codes and their extended ones (SQLITE_BUSY_SNAPSHOT, ...).
 */
const BUSY_STATES = new Set([...CONFLICT_STATES, "57014", "55P03"])
const SQLITE_BUSY = /^SQLITE_(BUSY|LOCKED)/

const fieldsOf = (link: unknown) =>
  typeof link === "object" && link !== null
    ? link as { readonly code?: unknown; readonly severity?: unknown; readonly message?: unknown; readonly errors?: unknown }
    : {}

const unreachable = (link: unknown): boolean => {
  const { code, errors, message, severity } = fieldsOf(link)
  if (typeof code === "string") {
    if (SOCKET_CODES.has(code) || UNREACHABLE_STATES.has(code) || code.startsWith("08") || code.startsWith(LOGIN_REFUSED_CLASS)) {
      return true
    }
    if (code === REFUSES_CONNECTIONS && severity === "FATAL") return true
  }
  if (typeof message === "string" && UNREACHABLE_MESSAGE.test(message)) return true
  // A host with several addresses (localhost: ::1 and 127.0.0.1) is refused on each: an AggregateError.
  return Array.isArray(errors) && errors.length > 0 && errors.every(unreachable)
}

/**
 * `cause` (a `DatabaseError`'s: the driver's `SqlError`, whose `cause` is pg's error) or anything
 * it was caused by says the database cannot be reached.
 */
export const isUnreachable = (cause: unknown): boolean => causeChain(cause).some(unreachable)

/** `cause` or anything it was caused by says the database refused the login (unreachable too). */
export const isLoginRefused = (cause: unknown): boolean => hasCode(cause, (code) => code.startsWith(LOGIN_REFUSED_CLASS))

/**
 * `cause` or anything it was caused by says the database refused a write as read-only (25006: a
 * standby, or a primary demoted by a failover): unreachable too, for the writes, while it reads.
 */
export const isReadOnly = (cause: unknown): boolean => hasCode(cause, (code) => code === READ_ONLY)

/** `cause` or anything it was caused by says the database was busy: worth trying again later. */
export const isBusy = (cause: unknown): boolean => hasCode(cause, (code) => BUSY_STATES.has(code) || SQLITE_BUSY.test(code))

/** `cause` or anything it was caused by says the transaction lost to another: worth running again now. */
export const isConflict = (cause: unknown): boolean => hasCode(cause, (code) => CONFLICT_STATES.has(code))

/** Whether `cause` is a failure of the moment: unreachable, else busy; `undefined` when neither. */
export const transienceOf = (cause: unknown): "unreachable" | "busy" | undefined =>
  isUnreachable(cause) ? "unreachable" : isBusy(cause) ? "busy" : undefined

/**
 * What a log line calls a failure of the moment (`kind`, of `cause`), the API's and the site's
 * alike, so that one search of the log finds both. A refused login and a write refused as
 * read-only are unreachable, said as what they are: the one sends the operator to DATABASE_URL's
 * user and password (or the role), the other to the failover (reads and /ready still answer), not
 * to the network.
 */
export const transienceLogged = (kind: "unreachable" | "busy", cause: unknown): string =>
  kind === "busy"
    ? "the database is busy"
    : isLoginRefused(cause)
    ? "the database refused the login (check DATABASE_URL's user and password, and the role)"
    : isReadOnly(cause)
    ? "the database refused the write as read-only (a standby or a demoted primary)"
    : "the database cannot be reached"

/** As `transienceOf`, for what a repository call failed with: `PoolTimeout` is busy. */
export const transience = (error: RepositoryError): "unreachable" | "busy" | undefined =>
  error._tag === "PoolTimeout" ? "busy" : transienceOf(error.cause)
