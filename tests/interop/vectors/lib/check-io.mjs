// File access relative to the manifest directory, with caching (many items share certs/keys).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Certificate } from './relaynet.mjs';
import { toArrayBuffer } from './util.mjs';

export function makeIo(dir) {
  const cache = new Map();
  const read = (rel) => {
    if (typeof rel !== 'string') throw new Error(`Missing file path (${JSON.stringify(rel)})`);
    if (!cache.has(rel)) cache.set(rel, readFile(join(dir, rel)));
    return cache.get(rel);
  };
  return {
    read,
    async readCertificates(paths) {
      return Promise.all(paths.map(async (p) => Certificate.deserialize(toArrayBuffer(await read(p)))));
    },
  };
}
