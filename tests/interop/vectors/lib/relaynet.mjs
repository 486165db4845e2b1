// One place to import relaynet-core from. `SignedData` (the class behind every CMS signature in
// the library) is not re-exported by the package index, so it is imported from its build path;
// the package has no "exports" map, so this resolves to the very module instance the rest of the
// library uses.
export * from '@relaycorp/relaynet-core';
export { SignedData } from '@relaycorp/relaynet-core/build/main/lib/crypto/cms/signedData.js';

import pkg from '@relaycorp/relaynet-core/package.json' with { type: 'json' };

export const PRODUCER = `relaynet-core@${pkg.version}`;
