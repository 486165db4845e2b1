// End-to-end registration against a running gateway, driven only by the published client
// @relaycorp/relaynet-poweb (and relaynet-core for keys and checks).
//
// Usage: node e2e/registration.mjs <poweb-url> [internet-address]
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';

import { PoWebClient } from '@relaycorp/relaynet-poweb';
import {
  generateRSAKeyPair,
  getIdFromIdentityKey,
  PrivateNodeRegistrationRequest,
} from '@relaycorp/relaynet-core';

const [url, expectedAddress] = process.argv.slice(2);
if (!url) {
  console.error('usage: registration.mjs <poweb-url> [internet-address]');
  process.exit(2);
}
const port = Number(new URL(url).port);
// initLocal talks plain HTTP to 127.0.0.1:<port>, which is where the test starts the gateway.
const client = PoWebClient.initLocal(port);

async function main() {
  // 1. A fresh key pre-registers and registers.
  const keyPair = await generateRSAKeyPair();
  const pnra = await client.preRegisterNode(keyPair.publicKey);
  const pnrr = new PrivateNodeRegistrationRequest(keyPair.publicKey, pnra);
  const registration = await client.registerNode(await pnrr.serialize(keyPair.privateKey));
  console.log('ok registered');

  const gatewayCertificate = registration.gatewayCertificate;
  const pgCertificate = registration.privateNodeCertificate;
  const path = await pgCertificate.getCertificationPath([], [gatewayCertificate]);
  assert.equal(path.length, 2);
  console.log('ok certificate chains to the gateway certificate');
  assert.equal(await pgCertificate.calculateSubjectId(), await getIdFromIdentityKey(keyPair.publicKey));
  console.log('ok certificate is for our key');
  assert.ok(registration.sessionKey, 'PNR carries a session key');
  assert.ok(registration.sessionKey.keyId.byteLength > 0);
  console.log('ok session key present');
  if (expectedAddress) {
    assert.equal(registration.internetGatewayInternetAddress, expectedAddress);
    console.log('ok internet address');
  }

  // 2. A PNRR built on a PNRA granted to another key is refused; the client raises.
  const otherKeyPair = await generateRSAKeyPair();
  const stolen = new PrivateNodeRegistrationRequest(otherKeyPair.publicKey, pnra);
  await assert.rejects(
    client.registerNode(await stolen.serialize(otherKeyPair.privateKey)),
    (error) => {
      assert.equal(error.name, 'ServerError');
      assert.match(error.message, /403/);
      return true;
    },
  );
  console.log('ok registration with another key refused');

}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
