/**
 * Discovery documents (docs/api.md#versions): the API version list served by `GET /` (300) and
 * `GET /versions` (200), and the import-method document of `GET /v2/info/import`. Pure builders:
 * the handlers only pick the status code.
 */

/** One entry of the version list, exactly as Glance renders it. */
export interface VersionEntry {
  readonly id: string;
  readonly status: 'CURRENT' | 'SUPPORTED';
  readonly links: readonly [{ readonly rel: 'self'; readonly href: string }];
}

export interface VersionsDocument {
  readonly versions: readonly VersionEntry[];
}

/**
 * The newest API minor version we implement. 2.17 is what Glance master reports without an image
 * cache (docs/decisions.md#glance-baseline); we have no cache API, so never 2.18.
 */
export const CURRENT_API_VERSION = '2.17';

/**
 * Every v2 minor version, newest first (Glance lists CURRENT first). Glance omits 2.8 and
 * 2.10–2.13 without multi-store and 2.14/2.16 without an image cache; we list them all so that a
 * client negotiating any 2.x version finds it (decision in the module report).
 */
export const API_VERSIONS: readonly string[] = Array.from({ length: 18 }, (_, minor) => `2.${17 - minor}`);

/**
 * Whether a path's first segment names an API version we serve (`v2`, `v2.0` ... `v2.17`). Glance
 * answers anything else, `/v1/...` and `/v9/...` included, with 300 and the versions document.
 */
export const isServedVersion = (path: string): boolean => {
  const segment = path.split('/')[1] ?? '';
  return segment === 'v2' || API_VERSIONS.some((version) => segment === `v${version}`);
};

/**
 * The `{"versions": [...]}` document. `baseUrl` is the public endpoint (scheme, host and any stage
 * prefix); a trailing slash is tolerated, so `https://h/` and `https://h` give the same hrefs
 * (Glance strips it and always ends the href with `/v2/`).
 */
export const versionsDocument = (baseUrl: string): VersionsDocument => {
  const href = `${baseUrl.replace(/\/+$/, '')}/v2/`;
  return {
    versions: API_VERSIONS.map((version) => ({
      id: `v${version}`,
      status: version === CURRENT_API_VERSION ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href }] as const,
    })),
  };
};

/**
 * Import methods enabled in our single-store deployment. `copy-image` needs more than one store
 * and `glance-download` (inter-region import) is not supported, so neither is offered. The same list
 * feeds `GET /v2/info/import`, the `OpenStack-image-import-methods` header on create and the
 * `method.name` check of `POST /v2/images/{id}/import`.
 */
export const ENABLED_IMPORT_METHODS = ['glance-direct', 'web-download'] as const;
export type ImportMethod = (typeof ENABLED_IMPORT_METHODS)[number];

export interface ImportInfoDocument {
  readonly 'import-methods': {
    readonly description: 'Import methods available.';
    readonly type: 'array';
    readonly value: string[];
  };
}

/**
 * The `GET /v2/info/import` body, shaped like Glance's discovery controller (python-glanceclient's
 * `import-info` and `image-create-via-import` read `import-methods.value`).
 */
export const importInfo = (methods: readonly string[] = ENABLED_IMPORT_METHODS): ImportInfoDocument => ({
  'import-methods': { description: 'Import methods available.', type: 'array', value: [...methods] },
});
