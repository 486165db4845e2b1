// Collects artifact files and manifest items for the generator (see tests/interop/MANIFEST.md).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isoSeconds, toBuffer } from './util.mjs';

export class VectorOutput {
  constructor(dir, producer, createdAt) {
    this.dir = dir;
    this.producer = producer;
    this.createdAt = createdAt;
    this.items = [];
    this.names = new Set();
  }

  /** Write `bytes` to `relPath` (relative to the manifest) and return that path. */
  async file(relPath, bytes) {
    const full = join(this.dir, relPath);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, toBuffer(bytes));
    return relPath;
  }

  /** Register an item; `file` must already be written. Undefined optional keys are dropped. */
  item(item) {
    if (this.names.has(item.name)) throw new Error(`Duplicate item name ${item.name}`);
    this.names.add(item.name);
    this.items.push(JSON.parse(JSON.stringify(item)));
  }

  async finish() {
    const manifest = {
      producer: this.producer,
      created_at: isoSeconds(this.createdAt),
      items: this.items,
    };
    await this.file('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    return manifest;
  }
}
