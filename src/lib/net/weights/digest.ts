/** Checksums of weight files: sha256 identifies the weights a run used, md5 is what Keras pins. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface Digests {
  sha256: string;
  md5: string;
}

/** Both digests of the files' bytes concatenated in order, in one streaming pass. */
export async function digestFiles(paths: readonly string[]): Promise<Digests> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  for (const path of paths) {
    for await (const chunk of createReadStream(path)) {
      sha256.update(chunk as Buffer);
      md5.update(chunk as Buffer);
    }
  }
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}
