// One place to import relaynet-core from. `SignedData` (the class behind every CMS signature in
// the library) is not re-exported by the package index, so it is imported from its build path;
// the package has no "exports" map, so this resolves to the very module instance the rest of the
// library uses.
export * from '@relaycorp/relaynet-core';
export { SignedData } from '@relaycorp/relaynet-core/build/main/lib/crypto/cms/signedData.js';

import pkg from '@relaycorp/relaynet-core/package.json' with { type: 'json' };

export const PRODUCER = `relaynet-core@${pkg.version}`;

// Used by the checker to split "parse" from "validate" for PNRA/PNRR, whose deserialisers do
// both at once: the library's own DATE-TIME decoder and its asn1js instance.
export { asn1DateTimeToDate } from '@relaycorp/relaynet-core/build/main/lib/asn1.js';

import { createRequire } from 'node:module';

const requireFromCore = createRequire(createRequire(import.meta.url).resolve('@relaycorp/relaynet-core'));
export const asn1js = requireFromCore('asn1js');

// The crypto engine relaynet-core draws certificate serial numbers from; the generator hooks its
// RNG once to reproduce a rare-but-real serial number shape (see gen-pki.mjs).
export { NODE_ENGINE } from '@relaycorp/relaynet-core/build/main/lib/crypto/pkijs.js';
