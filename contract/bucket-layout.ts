/**
 * Where things live in the data bucket: the stack creates and grants these, the host
 * reads them (their keys travel in host.env), the replica's S3 stand-in lays them out.
 */
export const BUCKET_LAYOUT = {
  bundles: 'bundles/',
  trust: 'trust/',
  trustBundleKey: 'trust/client-ca-bundle.pem',
  data: 'shared_data/',
  public: 'public/',
  letsencrypt: 'letsencrypt/',
} as const;
