import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { objectKey, RELEASE_LAYOUT } from '../../contract/release-manifest';
import { readLocalRelease } from './local-files';
import { publishRelease } from './publish';
import { PART_SIZE, S3Store } from './s3-store';

const s3 = mockClient(S3Client);
let dir: string;
beforeEach(() => {
  s3.reset();
  dir = mkdtempSync(join(tmpdir(), 's3-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const notFound = () => Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });

describe('S3Store', () => {
  it('head: the size, or undefined for a missing key', async () => {
    s3.on(HeadObjectCommand, { Key: 'there' }).resolves({ ContentLength: 42 }).on(HeadObjectCommand, { Key: 'missing' }).rejects(notFound());
    const store = new S3Store(new S3Client({ region: 'eu-west-2' }), 'b');
    expect(await store.head('there')).toEqual({ size: 42 });
    expect(await store.head('missing')).toBeUndefined();
  });

  it('getText: the body, or undefined for NoSuchKey; other errors pass through', async () => {
    s3.on(GetObjectCommand, { Key: 'doc' }).resolves({ Body: { transformToString: async () => '{"a":1}' } as never })
      .on(GetObjectCommand, { Key: 'gone' }).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey' }))
      .on(GetObjectCommand, { Key: 'denied' }).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const store = new S3Store(new S3Client({ region: 'eu-west-2' }), 'b');
    expect(await store.getText('doc')).toBe('{"a":1}');
    expect(await store.getText('gone')).toBeUndefined();
    await expect(store.getText('denied')).rejects.toThrow('Access Denied');
  });

  it('a file larger than a part goes up as a multipart upload, streamed', async () => {
    const file = join(dir, 'big.csv');
    writeFileSync(file, Buffer.alloc(PART_SIZE * 2 + 1000, 7));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"e${input.PartNumber}"` }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    await new S3Store(new S3Client({ region: 'eu-west-2' }), 'b').putFile('objects/x', file, PART_SIZE * 2 + 1000);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'b', Key: 'objects/x' });
    expect(s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input.PartNumber).sort()).toEqual([1, 2, 3]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input.MultipartUpload!.Parts!.map((p) => p.ETag)).toEqual(['"e1"', '"e2"', '"e3"']);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('a publish skips objects the bucket has (a resumed publish) and writes the pointer last', async () => {
    writeFileSync(join(dir, 'a.csv'), 'a');
    writeFileSync(join(dir, 'b.csv'), 'bb');
    const local = await readLocalRelease([dir]);
    const [a, b] = local.files;
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey' }));
    s3.on(HeadObjectCommand, { Key: objectKey(a!.sha256) }).resolves({ ContentLength: 1 }).on(HeadObjectCommand, { Key: objectKey(b!.sha256) }).rejects(notFound());
    s3.on(PutObjectCommand).resolves({});
    const result = await publishRelease({ store: new S3Store(new S3Client({ region: 'eu-west-2' }), 'b'), local });
    expect(result.present.map((f) => f.name)).toEqual(['a.csv']);
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual([objectKey(b!.sha256), `shared_data/releases/${result.release!.id}.json`, RELEASE_LAYOUT.pointerKey]);
  });
});
