/**
 * What the commands that work on the table directly (`metadefs`, `quota`) share: the table options,
 * their help text and where the output goes. The table is reached with the operator's AWS
 * credentials, as glance-manage reaches Glance's database.
 */
import { awsEndpoint, tableNameEnv } from '#shared/config';
import { createCliDocumentClient } from '#shared/runtime';

/** Where a command writes; tests pass their own. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

export const STD_OUTPUT: CliOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export const TABLE_OPTIONS_HELP = `Table options (the table is reached with your AWS credentials, as glance-manage reaches its database):
  --table <name>       Table name (default: $TABLE_NAME; the stack output TableName)
  --endpoint <url>     DynamoDB endpoint (default: $AWS_ENDPOINT_URL_DYNAMODB), e.g. the one
                       npm start prints; local endpoints need no real credentials
  -h, --help           Show this help
`;

/** The `parseArgs` options behind `TABLE_OPTIONS_HELP`. */
export const TABLE_OPTIONS = {
  table: { type: 'string' },
  endpoint: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * The table the options name, with a document client for it (a local endpoint gets a region and
 * dummy credentials); undefined, said on `io`, when no table is named.
 */
export const tableFrom = (
  values: { readonly table?: string; readonly endpoint?: string },
  io: CliOutput,
): { readonly doc: ReturnType<typeof createCliDocumentClient>; readonly tableName: string } | undefined => {
  const tableName = values.table ?? tableNameEnv();
  if (!tableName) {
    io.err('A table is needed: --table or TABLE_NAME.\n');
    return undefined;
  }
  return { doc: createCliDocumentClient(values.endpoint ?? awsEndpoint('DYNAMODB')), tableName };
};
