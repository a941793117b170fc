/**
 * What of a failure reason every viewer of an image may read (docs/lifecycle.md#reserved-properties):
 * URLs lose their userinfo, query string and fragment, which is where signed URLs carry their
 * signature and tokens and where credentials go. The full reason stays in the owner-only history
 * (B1) and in the task. Pure.
 */

/**
 * A URL in free text: any scheme, up to the next blank, double quote, angle bracket or backtick
 * (a serialized URL percent-encodes those; it may contain a single quote).
 */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"<>`]+/gi;

/** Sentence punctuation (and a closing single quote) that ends a match without being part of the URL. */
const TRAILING_PUNCTUATION = /[.,;:!?)\]}']+$/;

/** One URL without userinfo, query string or fragment; the scheme, host, port and path are kept. */
export const redactUrl = (url: string): string => {
  const schemeEnd = url.indexOf('://') + 3;
  const rest = url.slice(schemeEnd);
  // The authority ends at the first '/', '?' or '#'; userinfo is what precedes its last '@'.
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const afterAuthority = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  const pathEnd = afterAuthority.search(/[?#]/);
  const path = pathEnd === -1 ? afterAuthority : afterAuthority.slice(0, pathEnd);
  return `${url.slice(0, schemeEnd)}${host}${path}`;
};

/** Free text with every URL in it redacted by `redactUrl`; everything else is left as it is. */
export const redactUrls = (text: string): string =>
  text.replace(URL_IN_TEXT, (match) => {
    const punctuation = TRAILING_PUNCTUATION.exec(match)?.[0] ?? '';
    return redactUrl(match.slice(0, match.length - punctuation.length)) + punctuation;
  });
