/**
 * The metadata definitions catalog in the local stack: the starter catalog, loaded into a table
 * that never had it (docs/metadefs.md#the-starter-catalog). Straight to the table through the
 * loader, as the `metadefs load` CLI does; the API is not involved.
 */
import { type LoadReport, seedStarterCatalog } from '#shared/metadefs/loader';
import { MetadefRepository } from '#shared/metadefs/repository';
import { createDocumentClient } from '#shared/runtime';

/** The starter catalog's load report, or undefined when this table already had it once. */
export const seedLocalMetadefs = async (target: {
  readonly dynamoEndpoint: string;
  readonly tableName: string;
}): Promise<LoadReport | undefined> =>
  seedStarterCatalog(new MetadefRepository(createDocumentClient(target.dynamoEndpoint), target.tableName));
