// The Qalá SDK: a fetch-only client for Workers, Node and browsers.
export { createClient, type ClientOptions, type QalaClient, type TokenPair } from "./client.js";
export {
  AuthError,
  ConflictError,
  NetworkError,
  NotFoundError,
  QalaError,
  RateLimitError,
} from "./errors.js";
