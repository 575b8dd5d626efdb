/**
 * `/openapi.json` and the documentation page. The page is Swagger UI from the `swagger-ui-dist` package
 * (an optional peer), served from this process: no CDN, no inline script (a strict
 * `content-security-policy`), so it works on machines without internet and behind strict proxies.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { HttpOptionsError } from './errors.js';
import { type OpenApiDocument, type OpenApiOptions, openApiDocument } from './openapi.js';
import type { Routes } from './routes.js';

/** Where the adapters serve the document and the page. */
export interface OpenApiServeOptions extends OpenApiOptions {
  /** Path of the OpenAPI document. Default `"/openapi.json"`. */
  readonly path?: string;
  /**
   * Path of the documentation page (Swagger UI; needs `swagger-ui-dist` installed), or `false` for
   * none. Default `false`.
   */
  readonly docs?: string | false;
}

/** What every adapter serves: a route table and, beside it, its OpenAPI document and docs page. */
export interface ServedRoutes {
  /** The route table. */
  readonly routes: Routes;
  /** Where to serve the OpenAPI document and the docs page; `false` for neither. Default: `/openapi.json`, no page. */
  readonly openapi?: OpenApiServeOptions | false;
}

/** A fixed answer: what the adapters write for the document and the page's files. */
export interface StaticAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/** The document and the page, by request path. */
export interface DocsSite {
  /** The paths served, for the adapters' routers. */
  readonly paths: readonly string[];
  /** The answer for a path, or undefined when the path is not one of them. */
  answer(path: string): StaticAnswer | undefined;
}

const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function swaggerUiDir(): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  } catch (error) {
    throw new HttpOptionsError(
      'openapi.docs needs the swagger-ui-dist package: npm install swagger-ui-dist (or set openapi.docs to false)',
      { cause: error },
    );
  }
}

function page(title: string, docsPath: string): string {
  const base = docsPath.endsWith('/') ? docsPath : `${docsPath}/`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" type="image/png" href="${base}favicon-32x32.png">
<link rel="stylesheet" href="${base}swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${base}swagger-ui-bundle.js"></script>
<script src="${base}init.js"></script>
</body>
</html>
`;
}

/** The docs site an adapter serves for its options; undefined when `openapi` is `false`. */
export function docsSiteOf(options: ServedRoutes): DocsSite | undefined {
  return options.openapi === false ? undefined : docsSite(options.routes, options.openapi);
}

/**
 * The document of `routes` at `options.path`, and the page at `options.docs` when set. The document is
 * generated once, here; the page's files are read once, on first request.
 */
export function docsSite(routes: Routes, options: OpenApiServeOptions = {}): DocsSite {
  const documentPath = options.path ?? '/openapi.json';
  const document: OpenApiDocument = openApiDocument(routes, options);
  const json: StaticAnswer = {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' },
    body: JSON.stringify(document),
  };
  const answers = new Map<string, () => StaticAnswer>([[documentPath, () => json]]);
  const docs = options.docs ?? false;
  if (docs !== false) {
    const dir = swaggerUiDir();
    const base = docs.endsWith('/') ? docs : `${docs}/`;
    const headers = (type: string) => ({
      'content-type': type,
      'x-content-type-options': 'nosniff',
      'content-security-policy': CSP,
      'cache-control': 'public, max-age=3600',
    });
    const html: StaticAnswer = {
      status: 200,
      headers: headers('text/html; charset=utf-8'),
      body: page(routes.info.title, docs),
    };
    const init: StaticAnswer = {
      status: 200,
      headers: headers('text/javascript; charset=utf-8'),
      body: `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(documentPath)}, dom_id: '#swagger-ui', deepLinking: true });\n`,
    };
    answers.set(docs, () => html);
    answers.set(`${base}init.js`, () => init);
    for (const [file, type] of Object.entries(ASSETS)) {
      let loaded: StaticAnswer | undefined;
      answers.set(`${base}${file}`, () => {
        loaded ??= { status: 200, headers: headers(type), body: readFileSync(path.join(dir, file)) };
        return loaded;
      });
    }
  }
  return {
    paths: [...answers.keys()],
    answer: (requestPath) => answers.get(requestPath)?.(),
  };
}
