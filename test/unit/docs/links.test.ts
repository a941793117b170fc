/**
 * Every relative link in the README, CONTRIBUTING.md and docs/ points at a file that exists and,
 * with a `#fragment`, at an anchor that exists in it: a heading (GitHub's slug) or an explicit
 * `<a id="...">`. Links inside code blocks and code spans are not links; absolute URLs are not
 * checked (no network in tests). Source comments cite the docs too (`docs/lifecycle.md#t2`, decision
 * `D5`, transition `T18`): every such reference in the code must resolve inside the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Markdown without fenced code blocks and code spans, where link-like text is not a link. */
const withoutCode = (markdown: string): string =>
  markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');

/** GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');

/** The anchors a Markdown document defines; repeated headings get `-1`, `-2`... as on GitHub. */
const anchorsOf = (markdown: string): Set<string> => {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(heading ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const [, id] of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id ?? '');
  return anchors;
};

/** Broken relative links of one document, as `target (why)`; `read` gives other files' text. */
const brokenLinks = (
  file: string,
  markdown: string,
  read: (path: string) => string | undefined,
): string[] => {
  const broken: string[] = [];
  for (const [, target] of withoutCode(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const [path = '', fragment] = target.split('#', 2);
    const targetFile = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    const text = read(targetFile);
    if (text === undefined) {
      broken.push(`${target} (no such file)`);
    } else if (fragment !== undefined && !anchorsOf(text).has(decodeURIComponent(fragment))) {
      broken.push(`${target} (no such anchor)`);
    }
  }
  return broken;
};

const markdownFiles = (directory: string): string[] =>
  readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return path.endsWith('.md') ? [path] : [];
  });

const readIfPresent = (path: string): string | undefined => {
  if (!existsSync(path)) return undefined;
  return statSync(path).isDirectory() ? '' : readFileSync(path, 'utf8');
};

const documents = [
  join(ROOT, 'README.md'),
  join(ROOT, 'CONTRIBUTING.md'),
  ...markdownFiles(join(ROOT, 'docs')),
];

const SOURCE_FOLDERS = ['functions', 'shared', 'infra', 'bin', 'scripts', 'test', 'conformance'];

const sourceFiles = (directory: string): string[] =>
  existsSync(directory)
    ? readdirSync(directory).flatMap((name) => {
        const path = join(directory, name);
        if (statSync(path).isDirectory()) return sourceFiles(path);
        return /\.(ts|mjs)$/.test(path) ? [path] : [];
      })
    : [];

/** Doc references in a source file: `docs/x.md#anchor` paths and decision/transition ids. */
const sourceReferences = (text: string) => ({
  docs: [...text.matchAll(/\bdocs\/([\w./-]+\.md)(?:#([\w-]+))?/g)].map(([, file = '', anchor]) => ({
    file,
    anchor,
  })),
  ids: [...text.matchAll(/\b(D[1-9]\d?|B[1-9]|T[1-9]\d?)\b/g)].map(([, id = '']) => id),
});

describe('documentation links', () => {
  it.each(
    SOURCE_FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder))).map((file) => [
      relative(ROOT, file),
      file,
    ]),
  )('%s cites only docs sections and ids that exist', (_, file) => {
    if (file.endsWith('links.test.ts')) return;
    const { docs, ids } = sourceReferences(readFileSync(file, 'utf8'));
    const broken = docs
      .filter(({ file: doc, anchor }) => {
        const text = readIfPresent(join(ROOT, 'docs', doc));
        return text === undefined || (anchor !== undefined && !anchorsOf(text).has(anchor));
      })
      .map(({ file: doc, anchor }) => `docs/${doc}${anchor ? `#${anchor}` : ''}`);
    const decisions = anchorsOf(readFileSync(join(ROOT, 'docs/decisions.md'), 'utf8'));
    const lifecycle = anchorsOf(readFileSync(join(ROOT, 'docs/lifecycle.md'), 'utf8'));
    const unknownIds = ids.filter((id) =>
      id.startsWith('T') ? !lifecycle.has(id.toLowerCase()) : !decisions.has(id.toLowerCase()),
    );
    expect([...broken, ...unknownIds]).toEqual([]);
  });

  it.each(documents.map((file) => [relative(ROOT, file), file]))(
    '%s has no broken relative link',
    (_, file) => {
      expect(brokenLinks(file, readFileSync(file, 'utf8'), readIfPresent)).toEqual([]);
    },
  );

  it('finds the links it must find, and only those', () => {
    const files: Record<string, string> = {
      '/r/docs/a.md': '# Title\n\n## Same\n\n## Same\n\n<a id="d1"></a>\n### D1: `killed` is live\n',
    };
    const read = (path: string) => files[path];
    const page = [
      '[ok](a.md#title) [ok](a.md#same-1) [ok](a.md#d1) [ok](a.md#d1-killed-is-live) [ok](#here)',
      '[abs](https://example.com/x#y) `[code](nowhere.md)`',
      '```md\n[fenced](nowhere.md)\n```',
      '[file](missing.md) [anchor](a.md#same-2) [self](#there)',
      '## Here',
    ].join('\n');
    files['/r/docs/b.md'] = page;
    expect(brokenLinks('/r/docs/b.md', page, read)).toEqual([
      'missing.md (no such file)',
      'a.md#same-2 (no such anchor)',
      '#there (no such anchor)',
    ]);
  });
});

describe('the README', () => {
  it('stays what a newcomer reads first: at most 10 KB, the rest in docs/', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThanOrEqual(10 * 1024);
  });
});
