/**
 * The consumer client as a library.
 *
 * ```ts
 * const client = new ConsumerClient(resolveConsumerSettings({})); // the running sandbox
 * const token = await client.token();            // client_credentials + tls_client_auth, cached
 * const datasets = await client.listDatasets();  // GET /datasets
 * const res = await client.getDataset('carbon-intensity'); // res.body is the CSV stream
 * ```
 */
export { ConsumerClient, type ConsumerClientOptions, type DatasetInfo, type DatasetResponse, type TokenResult } from './consumer-client';
export { resolveConsumerSettings, type ConsumerFlags, type ConsumerSettings } from './consumer-settings';
export { discoverIssuer, type IssuerMetadata } from './discovery';
export { ClientError, ProviderAnswerError, TlsRejectedError, type RejectingSide } from './errors';
export { parseBearerChallenge } from './http-errors';
export { httpsRequest, readText } from './https-request';
export { FileTokenCache, MemoryTokenCache, type CachedToken, type TokenCache } from './access-token-store';
export { loadTlsIdentity, type TlsIdentity } from './tls-identity';
