/**
 * Module-scope singletons for the functions: clients and configuration are built once per
 * container, at cold start, and a missing variable fails right there.
 */
import { createDocumentClient } from './aws-clients.ts';
import { booleanEnv, requiredEnv } from './config.ts';
import { ImageRepository } from './images/repository.ts';

export const config = {
  tableName: requiredEnv('TABLE_NAME'),
  /** glance_store `delayed_delete`: deleting an image with data leaves it `pending_delete`. */
  delayedDelete: booleanEnv('DELAYED_DELETE', false),
} as const;

export const documentClient = createDocumentClient();
export const images = new ImageRepository(documentClient, config.tableName);
