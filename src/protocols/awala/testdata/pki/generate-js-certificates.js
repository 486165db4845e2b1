// Regenerates the relaynet-core certificate fixtures used by `pki` tests.
//
// Usage: NODE_PATH=<dir with @relaycorp/relaynet-core 1.88.2 in node_modules> \
//          node generate-js-certificates.js
// Writes a full chain as relaynet-core issues it (IG self-issued → PG → endpoint → PDA),
// valid from 2026-01-01 to 2036-01-01, so tests can validate it at a fixed instant.
'use strict';

const fs = require('fs');
const path = require('path');
const core = require('@relaycorp/relaynet-core');

const START = new Date('2026-01-01T00:00:00Z');
const END = new Date('2036-01-01T00:00:00Z');

async function main() {
  const ig = await core.generateRSAKeyPair();
  const pg = await core.generateRSAKeyPair();
  const pe = await core.generateRSAKeyPair();
  const peer = await core.generateRSAKeyPair();
  const igCert = await core.issueGatewayCertificate({
    subjectPublicKey: ig.publicKey,
    issuerPrivateKey: ig.privateKey,
    validityStartDate: START,
    validityEndDate: END,
  });
  const pgCert = await core.issueGatewayCertificate({
    subjectPublicKey: pg.publicKey,
    issuerPrivateKey: ig.privateKey,
    issuerCertificate: igCert,
    validityStartDate: START,
    validityEndDate: END,
  });
  const peCert = await core.issueEndpointCertificate({
    subjectPublicKey: pe.publicKey,
    issuerPrivateKey: pg.privateKey,
    issuerCertificate: pgCert,
    validityStartDate: START,
    validityEndDate: END,
  });
  const pda = await core.issueDeliveryAuthorization({
    subjectPublicKey: peer.publicKey,
    issuerPrivateKey: pe.privateKey,
    issuerCertificate: peCert,
    validityStartDate: START,
    validityEndDate: END,
  });
  // Sanity check with the library's own validator.
  const chain = await pda.getCertificationPath([peCert, pgCert], [igCert]);
  if (chain.length !== 4) throw new Error(`unexpected path length ${chain.length}`);
  const files = {
    'js-internet-gateway.der': igCert,
    'js-private-gateway.der': pgCert,
    'js-endpoint.der': peCert,
    'js-pda.der': pda,
  };
  for (const [name, cert] of Object.entries(files)) {
    fs.writeFileSync(path.join(__dirname, name), Buffer.from(cert.serialize()));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
