#!/usr/bin/env node
// Writes relaynet-core-made interop vectors and their manifest (see ../MANIFEST.md).
// Usage: node vectors/generate.mjs OUTDIR
import { mkdir } from 'node:fs/promises';
import { PRODUCER } from './lib/relaynet.mjs';
import { VectorOutput } from './lib/output.mjs';
import { floorToSecond } from './lib/util.mjs';
import { buildPki } from './lib/gen-pki.mjs';
import { writeCertificates } from './lib/gen-certs.mjs';
import { writeParcels } from './lib/gen-parcels.mjs';
import { writeCargoAndCcas } from './lib/gen-cargo.mjs';
import { makeNonce, makeRotation, writeBindingMessages, writeControlMessages, writeRegistrationMessages } from './lib/gen-messages.mjs';
import { writeDetachedSignatures, writeSessionEnvelopes, writeSignedData } from './lib/gen-crypto.mjs';

async function main(outDir) {
  if (!outDir) {
    console.error('Usage: node vectors/generate.mjs OUTDIR');
    process.exit(2);
  }
  await mkdir(outDir, { recursive: true });
  // Every date derives from this one clock reading (second precision, as Awala dates are).
  const createdAt = floorToSecond(new Date());
  const out = new VectorOutput(outDir, PRODUCER, createdAt);

  const pki = await buildPki(createdAt);
  const rotation = makeRotation(pki);
  pki.rotationBytes = rotation.rotationBytes;

  const certPaths = await writeCertificates(out, pki);
  const parcelCtx = await writeParcels(out, pki, certPaths);
  const cargoCtx = await writeCargoAndCcas(out, pki, certPaths, parcelCtx.parcels);
  const nonce = makeNonce();
  const sigCtx = await writeDetachedSignatures(out, pki, certPaths, { parcels: parcelCtx.parcels, nonce });
  const ctx = { ...parcelCtx, ...cargoCtx, ...sigCtx, rotation, nonce };
  await writeControlMessages(out, pki, ctx);
  await writeBindingMessages(out, pki, ctx);
  await writeRegistrationMessages(out, pki);
  await writeSignedData(out, pki, certPaths);
  await writeSessionEnvelopes(out, pki);

  const manifest = await out.finish();
  console.log(`Wrote ${manifest.items.length} items to ${outDir}`);
}

await main(process.argv[2]);
