import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrls } from '#shared/redact';

describe('redactUrl', () => {
  it.each([
    ['a plain URL', 'https://example.com/a/b.img', 'https://example.com/a/b.img'],
    [
      'a query string',
      'https://example.com/x.img?X-Amz-Signature=abc&X-Amz-Credential=k',
      'https://example.com/x.img',
    ],
    ['a fragment', 'https://example.com/x.img#token=abc', 'https://example.com/x.img'],
    ['userinfo', 'https://user:secret@example.com/x.img', 'https://example.com/x.img'],
    ['an @ inside the password', 'http://u:p@ss@example.com:8080/x', 'http://example.com:8080/x'],
    ['everything at once', 'http://u:p@example.com:81/a?b=c#d', 'http://example.com:81/a'],
    ['no path', 'https://user:pw@example.com?sig=1', 'https://example.com'],
    ['an IPv6 host', 'http://[::1]:8000/x?y', 'http://[::1]:8000/x'],
    ['a port only', 'http://127.0.0.1:9/', 'http://127.0.0.1:9/'],
    ['another scheme', 'ftp://anon:mail@ftp.example.com/pub?x', 'ftp://ftp.example.com/pub'],
  ])('drops %s', (_case, url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});

describe('redactUrls', () => {
  it.each([
    [
      'a failed download',
      'Import failed at step Fetch: https://bucket.s3.amazonaws.com/x.img?X-Amz-Signature=abc answered HTTP 403 Forbidden.',
      'Import failed at step Fetch: https://bucket.s3.amazonaws.com/x.img answered HTTP 403 Forbidden.',
    ],
    [
      'a URL followed by a colon',
      'Could not fetch http://u:pw@h.example/x?t=1: connect ECONNREFUSED',
      'Could not fetch http://h.example/x: connect ECONNREFUSED',
    ],
    [
      'a URL at the end of a sentence',
      'The data at http://h.example/x.img?token=s3cr3t.',
      'The data at http://h.example/x.img.',
    ],
    ['a URL in parentheses', '(see http://h.example/a?b=c)', '(see http://h.example/a)'],
    [
      'a URL in single quotes',
      "'http://h.example/a?b=c' is not valid.",
      "'http://h.example/a' is not valid.",
    ],
    [
      'a single quote inside the path',
      "http://h.example/it's?sig=1 answered",
      "http://h.example/it's answered",
    ],
    [
      'a URL inside JSON',
      '{"errorMessage":"http://h.example/a?sig=1 answered HTTP 404"}',
      '{"errorMessage":"http://h.example/a answered HTTP 404"}',
    ],
    [
      'two URLs',
      'Redirect from http://a.example/x?k=1 to https://b.example/y#f refused.',
      'Redirect from http://a.example/x to https://b.example/y refused.',
    ],
    ['upper-case schemes', 'HTTPS://User:Pw@Example.com/X?Q=1 answered.', 'HTTPS://Example.com/X answered.'],
    [
      'text without URLs',
      'Size mismatch: 10 bytes declared, 12 received.',
      'Size mismatch: 10 bytes declared, 12 received.',
    ],
    ['a query without a scheme', 'path /x?y=1 and a@b', 'path /x?y=1 and a@b'],
  ])('redacts %s', (_case, text, redacted) => {
    expect(redactUrls(text)).toBe(redacted);
  });

  it('never leaves a query, fragment or userinfo of any http(s) URL in a sentence', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9%=&._~-]{1,30}$/);
    fc.assert(
      fc.property(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        secret,
        secret,
        fc.constantFrom('', '.', ':', ')', ','),
        (url, user, token, punctuation) => {
          const withSecrets = url.replace('://', `://${user}:SECRET${token}@`);
          const text = `Import failed at step Fetch: ${withSecrets}?sig=SECRET${token}#SECRET${punctuation} answered HTTP 404.`;
          const redacted = redactUrls(text);
          expect(redacted).not.toContain('SECRET');
          expect(redacted).toMatch(/^Import failed at step Fetch: https?:\/\/[^\s?#]+ answered HTTP 404\.$/);
          expect(redacted).toContain(`${punctuation} answered`);
          expect(redacted).toContain(`://${new URL(url).host}`);
        },
      ),
    );
  });
});
