/**
 * @blueprint/http — the public HTTP API of a Blueprint app, from its contracts: a route table, the one
 * error table and error body, request mapping, and the OpenAPI 3.1 document. The adapters are subpaths:
 * `@blueprint/http/fastify` (the default), `@blueprint/http/express`, `@blueprint/http/lambda`; the shared
 * test table of the adapters is `@blueprint/http/testing`.
 */
export {
  DEFAULT_BODY_LIMIT,
  decodeBody,
  isJsonContentType,
  parseJsonBody,
} from './body.js';
export { answerClientError } from './client-error.js';
export { CORRELATION_HEADER, correlationIdFrom, MAX_CORRELATION_ID_LENGTH } from './correlation.js';
export {
  type DocsSite,
  docsSite,
  docsSiteOf,
  type OpenApiServeOptions,
  type ServedRoutes,
  type StaticAnswer,
} from './docs.js';
export {
  type Answer,
  type ClientSource,
  createEdge,
  type Edge,
  type EdgeOptions,
  type EdgeRoute,
  Exchange,
  type RequestHeaders,
  type TimeoutOptions,
} from './edge.js';
export {
  type ErrorAnswer,
  type ErrorBody,
  type ErrorMapping,
  errorAnswer,
  internalMessage,
} from './error-response.js';
export {
  BadRequestError,
  HeaderInvalidError,
  HeadersTooLargeError,
  HTTP_ERROR_CODES,
  HTTP_ERRORS,
  HttpOptionsError,
  isHttpError,
  LambdaEventError,
  MalformedJsonError,
  MalformedUrlError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RequestTimeoutError,
  RoutesInvalidError,
  UnsupportedMediaTypeError,
  UriTooLongError,
} from './errors.js';
export {
  buildInput,
  type InputPlan,
  planInput,
  type QueryValues,
  queryOf,
  type RequestParts,
} from './input.js';
export { DEFAULT_QUIET_ROUTES, HTTP_REQUEST_DURATION, NO_ROUTE } from './observe.js';
export { type JsonSchema, type OpenApiDocument, type OpenApiOptions, openApiDocument } from './openapi.js';
export { type PathPattern, parsePath, type RouteMatch, RouteMatcher } from './path.js';
export {
  type ClientsOf,
  type CompiledRoute,
  defineRoutes,
  HTTP_METHODS,
  type HttpMethod,
  type Route,
  type RouteOptions,
  type RouteSpec,
  type Routes,
  type RoutesInfo,
  route,
} from './routes.js';
