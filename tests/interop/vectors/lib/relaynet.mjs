// One place to import relaynet-core from. A few internals are not re-exported by the package
// index, so they come from their build paths; the package has no "exports" map, so these resolve
// to the very module instances the rest of the library uses.
import { createRequire } from 'node:module';

export * from '@relaycorp/relaynet-core';

// The class behind every CMS signature in the library (used for `signed_data` items).
export { SignedData } from '@relaycorp/relaynet-core/build/main/lib/crypto/cms/signedData.js';

// Used by the checker to split "parse" from "validate" for PNRA/PNRR, whose deserialisers do
// both at once: the library's own DATE-TIME decoder and its asn1js instance.
export { asn1DateTimeToDate } from '@relaycorp/relaynet-core/build/main/lib/asn1.js';

// The crypto engine relaynet-core draws certificate serial numbers from; the generator hooks its
// RNG once to reproduce a rare-but-real serial number shape (see gen-pki.mjs).
export { NODE_ENGINE } from '@relaycorp/relaynet-core/build/main/lib/crypto/pkijs.js';

const requireHere = createRequire(import.meta.url);
const requireFromCore = createRequire(requireHere.resolve('@relaycorp/relaynet-core'));
export const asn1js = requireFromCore('asn1js');

// Read with require: JSON import attributes need Node >= 20.10.
export const PRODUCER = `relaynet-core@${requireHere('@relaycorp/relaynet-core/package.json').version}`;
