import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { GlanceFunction } from './constructs/glance-function.ts';
import type { Route } from './routes.ts';

/** How much of the table a function may touch. */
export type TableAccess = 'none' | 'read' | 'readWrite';

/**
 * What one route's function is allowed to do. The data-path work extends this with bucket access
 * (e.g. `bucket: 'none' | 'read' | 'readWrite'`) and handles it in `applyGrants`.
 */
export interface RouteGrants {
  readonly table: TableAccess;
}

/** Authenticated routes that only serve static documents, so they need no data at all. */
const STATIC_ROUTES: ReadonlySet<string> = new Set(['GetSchema', 'GetImportInfo']);

/**
 * The one place that decides a route's permissions (least privilege): the discovery documents get
 * nothing, GET/HEAD routes read the table, every other method reads and writes it.
 */
export const grantsFor = (route: Route): RouteGrants => {
  if (!route.auth || STATIC_ROUTES.has(route.name)) return { table: 'none' };
  return { table: route.method === 'GET' || route.method === 'HEAD' ? 'read' : 'readWrite' };
};

/** The resources grants can point at. `bucket` is unused until the data path needs it. */
export interface GrantTargets {
  readonly table: ITable;
  readonly bucket: IBucket;
}

/** Turns a route's `RouteGrants` into IAM statements on its function. */
export const applyGrants = (fn: GlanceFunction, grants: RouteGrants, targets: GrantTargets): void => {
  if (grants.table === 'read') fn.grantImagesRead(targets.table);
  if (grants.table === 'readWrite') fn.grantImagesWrite(targets.table);
};
