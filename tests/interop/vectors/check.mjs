#!/usr/bin/env node
// Checks every item of an interop manifest (from any producer) with relaynet-core, following
// ../MANIFEST.md. Usage: node vectors/check.mjs [-v] INDIR   (exit status 1 if any item failed)
// -v also prints, on stderr, why each invalid/malformed item was rejected.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeIo } from './lib/check-io.mjs';
import { checkItem } from './lib/check-runner.mjs';
import { certificateHandler, ramfHandlers } from './lib/check-ramf.mjs';
import { detachedSignatureHandler, sessionEnvelopeHandler, signedDataHandler } from './lib/check-crypto.mjs';
import { messageHandlers } from './lib/check-messages.mjs';

const HANDLERS = {
  certificate: certificateHandler,
  ...ramfHandlers,
  ...messageHandlers,
  detached_signature: detachedSignatureHandler,
  signed_data: signedDataHandler,
  session_envelope: sessionEnvelopeHandler,
};

async function main(args) {
  const verbose = args.includes('-v');
  const inDir = args.find((a) => a !== '-v');
  if (!inDir) {
    console.error('Usage: node vectors/check.mjs [-v] INDIR');
    process.exit(2);
  }
  const manifest = JSON.parse(await readFile(join(inDir, 'manifest.json'), 'utf8'));
  const io = makeIo(inDir);
  const counts = { ok: 0, fail: 0, skip: 0 };
  const seen = new Set();
  for (const item of manifest.items) {
    // Sequential on purpose: the frozen clock is global (lib/clock.mjs).
    const result = seen.has(item.name)
      ? { status: 'fail', reason: 'duplicate item name' }
      : await checkItem(item, io, HANDLERS, manifest.created_at);
    seen.add(item.name);
    counts[result.status] += 1;
    if (result.status === 'ok') {
      console.log(`ok ${item.name}`);
      if (verbose && result.detail) console.error(`#   ${result.detail}`);
    } else console.log(`${result.status === 'fail' ? 'FAIL' : 'skip'} ${item.name}: ${result.reason}`);
  }
  const skipped = counts.skip ? `, ${counts.skip} skipped` : '';
  console.log(`${counts.ok} passed, ${counts.fail} failed${skipped}`);
  process.exitCode = counts.fail ? 1 : 0;
}

await main(process.argv.slice(2));
