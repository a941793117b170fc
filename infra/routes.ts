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

export const routes: readonly Route[] = [
  r('ListVersions', 'GET', '/', 'discovery/list-versions', false),
  r('GetVersions', 'GET', '/versions', 'discovery/get-versions', false),
  r('GetImportInfo', 'GET', '/v2/info/import', 'discovery/get-import-info'),
  r('GetSchema', 'GET', '/v2/schemas/{schema_name}', 'discovery/get-schema'),

  r('CreateImage', 'POST', '/v2/images', 'images/create-image'),
  r('ListImages', 'GET', '/v2/images', 'images/list-images'),
  r('ShowImage', 'GET', '/v2/images/{image_id}', 'images/show-image'),
  r('PatchImage', 'PATCH', '/v2/images/{image_id}', 'images/patch-image'),
  r('DeleteImage', 'DELETE', '/v2/images/{image_id}', 'images/delete-image'),
  r('ShowImageHistory', 'GET', '/v2/images/{image_id}/history', 'images/show-image-history'),
  r('AddImageTag', 'PUT', '/v2/images/{image_id}/tags/{tag}', 'images/add-image-tag'),
  r('DeleteImageTag', 'DELETE', '/v2/images/{image_id}/tags/{tag}', 'images/delete-image-tag'),
  r('DeactivateImage', 'POST', '/v2/images/{image_id}/actions/deactivate', 'images/deactivate-image'),
  r('ReactivateImage', 'POST', '/v2/images/{image_id}/actions/reactivate', 'images/reactivate-image'),

  // Import and tasks (docs/lifecycle.md#task-statuses, docs/api.md#tasks). DELETE /v2/tasks/{task_id} is the ANY route's 405 with `Allow: GET`.
  r('ImportImage', 'POST', '/v2/images/{image_id}/import', 'images/import-image'),
  r('ListImageTasks', 'GET', '/v2/images/{image_id}/tasks', 'images/list-image-tasks'),
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
  r('PresignImageUpload', 'POST', '/v2/images/{image_id}/file/presign', 'images/presign-image-upload'),
  r('PresignImageStage', 'POST', '/v2/images/{image_id}/stage/presign', 'images/presign-image-stage'),
  r('CompleteImageUpload', 'POST', '/v2/images/{image_id}/file/complete', 'images/complete-image-upload'),
  r('CompleteImageStage', 'POST', '/v2/images/{image_id}/stage/complete', 'images/complete-image-stage'),
];

/**
 * Paths served by a method-not-allowed function for every other method (Glance answers 405
 * with an `Allow` header). On AWS these are `ANY` routes, which API Gateway ranks below the
 * exact-method routes.
 */
export const knownPaths = (): string[] => [...new Set(routes.map((route) => route.path))];

/** Routes whose functions start import workflow executions (STATE_MACHINE_ARN, states:StartExecution). */
export const IMPORT_STARTING_ROUTES: ReadonlySet<string> = new Set(['ImportImage', 'CreateTask']);

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
