/**
 * What the console's hosts share, locally (infra/local/console.ts) and in AWS (infra/constructs/console-hosting.ts):
 * the console's own paths, each answered with index.html (the app routes in the browser), and the response headers.
 */

/** The console's fixed paths (deep links, docs/console.md). */
export const APP_PATH =
  /^\/(|requests|requests\/[A-Za-z0-9_-]{1,64}|approvals|reviews|admin\/(roles|assignments|groups|alerts)|admin\/roles\/[a-z0-9-]{1,64}|audit|callback)$/;

/** The files of a build besides index.html: the app's JavaScript (its entry and its chunks) and its style. */
export const isAssetPath = (path: string): boolean =>
  /^\/assets\/(app\.(js|css)|signin\.css|chunk-[A-Z0-9]{8}\.js)$/.test(path);

/**
 * The Content-Security-Policy: no inline script, nothing from another origin but the API and the sign-in endpoints
 * the page talks to (`connect`, each a CSP source expression), never framed.
 */
export const contentSecurityPolicy = (connect: readonly string[]): string =>
  [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${["'self'", ...connect].join(' ')}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');

/**
 * The CloudFront viewer-request function of the deployed console (cloudfront-js-2.0): the console's own paths answer
 * index.html; every other path goes to the bucket as asked (and a missing object is refused by S3).
 */
export const REWRITE_CODE = `function handler(event) {
  var request = event.request;
  if (${APP_PATH.toString()}.test(request.uri)) request.uri = '/index.html';
  return request;
}`;
