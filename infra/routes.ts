/**
 * The one route table. CDK creates one Lambda function and one HTTP API route per entry,
 * and the local API Gateway adapter (infra/local) routes with the very same entries, so a
 * path that works locally is a path that exists on AWS.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface Route {
  /** Logical id: CDK construct id and function name suffix; unique. */
  readonly name: string;
  readonly method: HttpMethod;
  /** API Gateway route path, with `{param}` segments. */
  readonly path: string;
  /** Entry file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** False only for the discovery documents, which Glance serves without a token. */
  readonly auth: boolean;
  /** Extra per-function settings the data path needs. */
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  /**
   * Name of the nested stack that holds the route's resources (function, role, log group,
   * integration, route). CloudFormation allows 500 resources per stack and each route brings
   * seven, so a large family of routes lives in a nested stack of its own.
   */
  readonly nestedStack?: string;
}

const r = (name: string, method: HttpMethod, path: string, entry: string, auth = true): Route => ({
  name,
  method,
  path,
  entry: `functions/${entry}.ts`,
  auth,
});

/** Direct uploads hold up to ~4.5 MiB in memory, hash it and write it to S3: more memory (and CPU), API Gateway's 29 s. */
const DIRECT_DATA = { memoryMb: 1024, timeoutSeconds: 29 } as const;

/**
 * Presign signs a page of up to `PRESIGN_MAX_PART_URLS` part URLs (1000 by default, at most 10,000):
 * CPU work, about 0.4 s of one vCPU per 1000 URLs (`npm run bench -- multipart`). At 256 MB (0.145
 * vCPU) a page of 10,000 would take about 28 s; 1024 MB signs it in about 7 s, within API
 * Gateway's 29 s (docs/uploads.md#multipart).
 */
const PRESIGN = { memoryMb: 1024, timeoutSeconds: 29 } as const;

/** Image sharing (docs/api.md#members), in its own nested stack: the main stack keeps room for the next routes. */
const member = (name: string, method: HttpMethod, path: string, entry: string): Route => ({
  ...r(name, method, path, `images/${entry}`),
  nestedStack: 'Members',
});

/** The metadefs namespace collection and one namespace. */
const NS = '/v2/metadefs/namespaces';
const NS1 = `${NS}/{namespace_name}`;
const NS_TYPES = `${NS1}/resource_types`;
/** The metadefs routes, in their own nested stack (docs/metadefs.md#aws-resources). */
const metadef = (name: string, method: HttpMethod, path: string, entry: string): Route => ({
  ...r(name, method, path, `metadefs/${entry}`),
  nestedStack: 'Metadefs',
});

export const routes: readonly Route[] = [
  r('ListVersions', 'GET', '/', 'discovery/list-versions', false),
  r('GetVersions', 'GET', '/versions', 'discovery/get-versions', false),
  r('GetImportInfo', 'GET', '/v2/info/import', 'discovery/get-import-info'),
  r('GetUsage', 'GET', '/v2/info/usage', 'discovery/get-usage'),
  r('GetSchema', 'GET', '/v2/schemas/{schema_name}', 'discovery/get-schema'),

  r('CreateImage', 'POST', '/v2/images', 'images/create-image'),
  r('ListImages', 'GET', '/v2/images', 'images/list-images'),
  r('ShowImage', 'GET', '/v2/images/{image_id}', 'images/show-image'),
  r('PatchImage', 'PATCH', '/v2/images/{image_id}', 'images/patch-image'),
  r('DeleteImage', 'DELETE', '/v2/images/{image_id}', 'images/delete-image'),
  r('ShowImageHistory', 'GET', '/v2/images/{image_id}/history', 'images/show-image-history'),
  r('AddImageTag', 'PUT', '/v2/images/{image_id}/tags/{tag}', 'images/add-image-tag'),
  r('DeleteImageTag', 'DELETE', '/v2/images/{image_id}/tags/{tag}', 'images/delete-image-tag'),
  // Image sharing (docs/api.md#members).
  member('ListImageMembers', 'GET', '/v2/images/{image_id}/members', 'list-image-members'),
  member('AddImageMember', 'POST', '/v2/images/{image_id}/members', 'add-image-member'),
  member('ShowImageMember', 'GET', '/v2/images/{image_id}/members/{member_id}', 'show-image-member'),
  member('UpdateImageMember', 'PUT', '/v2/images/{image_id}/members/{member_id}', 'update-image-member'),
  member('DeleteImageMember', 'DELETE', '/v2/images/{image_id}/members/{member_id}', 'delete-image-member'),
  r('DeactivateImage', 'POST', '/v2/images/{image_id}/actions/deactivate', 'images/deactivate-image'),
  r('ReactivateImage', 'POST', '/v2/images/{image_id}/actions/reactivate', 'images/reactivate-image'),

  // Import and tasks (docs/lifecycle.md#task-statuses, docs/api.md#tasks). DELETE /v2/tasks/{task_id} is the ANY route's 405 with `Allow: GET`.
  r('ImportImage', 'POST', '/v2/images/{image_id}/import', 'images/import-image'),
  r('ListImageTasks', 'GET', '/v2/images/{image_id}/tasks', 'images/list-image-tasks'),
  // Locations (Image API 2.17, docs/locations.md): a location_import task on the import workflow.
  r('AddImageLocation', 'POST', '/v2/images/{image_id}/locations', 'images/add-image-location'),
  r('ListImageLocations', 'GET', '/v2/images/{image_id}/locations', 'images/list-image-locations'),
  r('CreateTask', 'POST', '/v2/tasks', 'tasks/create-task'),
  r('ListTasks', 'GET', '/v2/tasks', 'tasks/list-tasks'),
  r('ShowTask', 'GET', '/v2/tasks/{task_id}', 'tasks/show-task'),

  // Image data (decisions D5, D6): small bodies through the function, large ones straight to S3.
  {
    ...r('UploadImageData', 'PUT', '/v2/images/{image_id}/file', 'images/upload-image-data'),
    ...DIRECT_DATA,
  },
  r('DownloadImageData', 'GET', '/v2/images/{image_id}/file', 'images/download-image-data'),
  { ...r('StageImageData', 'PUT', '/v2/images/{image_id}/stage', 'images/stage-image-data'), ...DIRECT_DATA },
  {
    ...r('PresignImageUpload', 'POST', '/v2/images/{image_id}/file/presign', 'images/presign-image-upload'),
    ...PRESIGN,
  },
  {
    ...r('PresignImageStage', 'POST', '/v2/images/{image_id}/stage/presign', 'images/presign-image-stage'),
    ...PRESIGN,
  },
  r('CompleteImageUpload', 'POST', '/v2/images/{image_id}/file/complete', 'images/complete-image-upload'),
  r('CompleteImageStage', 'POST', '/v2/images/{image_id}/stage/complete', 'images/complete-image-stage'),

  // Metadata definitions catalog (docs/metadefs.md#routes).
  metadef('GetMetadefSchema', 'GET', '/v2/schemas/metadefs/{schema_name}', 'get-metadef-schema'),
  metadef('ListMetadefResourceTypes', 'GET', '/v2/metadefs/resource_types', 'list-resource-types'),
  metadef('ListMetadefNamespaces', 'GET', NS, 'list-namespaces'),
  metadef('CreateMetadefNamespace', 'POST', NS, 'create-namespace'),
  metadef('ShowMetadefNamespace', 'GET', NS1, 'show-namespace'),
  metadef('UpdateMetadefNamespace', 'PUT', NS1, 'update-namespace'),
  metadef('DeleteMetadefNamespace', 'DELETE', NS1, 'delete-namespace'),
  metadef('ListMetadefResourceTypeAssociations', 'GET', NS_TYPES, 'list-resource-type-associations'),
  metadef('CreateMetadefResourceTypeAssociation', 'POST', NS_TYPES, 'create-resource-type-association'),
  metadef(
    'DeleteMetadefResourceTypeAssociation',
    'DELETE',
    `${NS_TYPES}/{resource_type_name}`,
    'delete-resource-type-association',
  ),
  metadef('ListMetadefProperties', 'GET', `${NS1}/properties`, 'list-properties'),
  metadef('CreateMetadefProperty', 'POST', `${NS1}/properties`, 'create-property'),
  metadef('DeleteMetadefProperties', 'DELETE', `${NS1}/properties`, 'delete-properties'),
  metadef('ShowMetadefProperty', 'GET', `${NS1}/properties/{property_name}`, 'show-property'),
  metadef('UpdateMetadefProperty', 'PUT', `${NS1}/properties/{property_name}`, 'update-property'),
  metadef('DeleteMetadefProperty', 'DELETE', `${NS1}/properties/{property_name}`, 'delete-property'),
  metadef('ListMetadefObjects', 'GET', `${NS1}/objects`, 'list-objects'),
  metadef('CreateMetadefObject', 'POST', `${NS1}/objects`, 'create-object'),
  metadef('DeleteMetadefObjects', 'DELETE', `${NS1}/objects`, 'delete-objects'),
  metadef('ShowMetadefObject', 'GET', `${NS1}/objects/{object_name}`, 'show-object'),
  metadef('UpdateMetadefObject', 'PUT', `${NS1}/objects/{object_name}`, 'update-object'),
  metadef('DeleteMetadefObject', 'DELETE', `${NS1}/objects/{object_name}`, 'delete-object'),
  metadef('ListMetadefTags', 'GET', `${NS1}/tags`, 'list-tags'),
  metadef('CreateMetadefTags', 'POST', `${NS1}/tags`, 'create-tags'),
  metadef('DeleteMetadefTags', 'DELETE', `${NS1}/tags`, 'delete-tags'),
  metadef('ShowMetadefTag', 'GET', `${NS1}/tags/{tag_name}`, 'show-tag'),
  metadef('CreateMetadefTag', 'POST', `${NS1}/tags/{tag_name}`, 'create-tag'),
  metadef('UpdateMetadefTag', 'PUT', `${NS1}/tags/{tag_name}`, 'update-tag'),
  metadef('DeleteMetadefTag', 'DELETE', `${NS1}/tags/{tag_name}`, 'delete-tag'),
];

/**
 * Paths served by a method-not-allowed function for every other method (Glance answers 405
 * with an `Allow` header). On AWS these are `ANY` routes, which API Gateway ranks below the
 * exact-method routes.
 */
export const knownPaths = (): string[] => [...new Set(routes.map((route) => route.path))];

/** Routes whose functions start import workflow executions (STATE_MACHINE_ARN, states:StartExecution). */
export const IMPORT_STARTING_ROUTES: ReadonlySet<string> = new Set([
  'ImportImage',
  'CreateTask',
  'AddImageLocation',
]);

/** Methods accepted on a path, for the `Allow` header. */
export const allowedMethods = (path: string): HttpMethod[] =>
  routes.filter((route) => route.path === path).map((route) => route.method);

/**
 * Whether the fallbacks of a path (`ANY`) check the token first, as Glance does before routing:
 * every path but the discovery documents, which are served without a token.
 */
export const pathNeedsToken = (path: string, table: readonly Route[] = routes): boolean =>
  table.some((route) => route.path === path && route.auth);

/** The function behind `ANY {path}` routes. */
export const methodNotAllowedEntry = 'functions/http/method-not-allowed.ts';
/** The function behind the `$default` route: Glance's 404 for an unknown path. */
export const notFoundEntry = 'functions/http/not-found.ts';
/** The Lambda authorizer of identity mode `keystone` (docs/identity.md#keystone-mode). */
export const keystoneAuthorizerEntry = 'functions/identity/keystone-authorizer.ts';
