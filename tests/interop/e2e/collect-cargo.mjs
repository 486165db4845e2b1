// End-to-end cargo collection against a running gateway, driven only by published clients:
// a private gateway built with @relaycorp/relaynet-core registers over PoWeb
// (@relaycorp/relaynet-poweb), stores a parcel for one of its endpoints, makes a CCA the way
// real private gateways do (PrivateInternetGatewayChannel.generateCCA) and collects the cargo
// with @relaycorp/cogrpc.
//
// Usage: node e2e/collect-cargo.mjs <poweb-url> <cogrpc-port> <internet-address> [--no-parcel]
// (`--no-parcel` skips the PoWeb parcel delivery, for gateways built without it, and then
// expects no cargo at all.)
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';

import { CogRPCClient } from '@relaycorp/cogrpc';
import { PoWebClient } from '@relaycorp/relaynet-poweb';
import {
  Cargo,
  CargoMessageSet,
  CertificateRotation,
  generateRSAKeyPair,
  getIdFromIdentityKey,
  issueDeliveryAuthorization,
  issueEndpointCertificate,
  MockKeyStoreSet,
  Parcel,
  ParcelDeliverySigner,
  PrivateGatewayManager,
} from '@relaycorp/relaynet-core';

const [url, cogrpcPort, internetAddress, mode] = process.argv.slice(2);
const withParcel = mode !== '--no-parcel';
if (!url || !cogrpcPort || !internetAddress) {
  console.error('usage: collect-cargo.mjs <poweb-url> <cogrpc-port> <internet-address>');
  process.exit(2);
}
const poweb = PoWebClient.initLocal(Number(new URL(url).port));

function toArrayBuffer(buffer) {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
}

async function collect(cca) {
  const client = await CogRPCClient.initLocalhost(Number(cogrpcPort));
  try {
    const cargoes = [];
    for await (const cargo of client.collectCargo(cca)) {
      cargoes.push(cargo);
    }
    return cargoes;
  } finally {
    client.close();
  }
}

async function refusedWith(cca, codeName) {
  await assert.rejects(collect(cca), (error) => {
    assert.equal(error.name, 'CogRPCError');
    assert.match(error.message, new RegExp(codeName));
    return true;
  });
}

async function main() {
  // 1. A private gateway as relaynet-core models it, registered over PoWeb.
  const keyStores = new MockKeyStoreSet();
  const identity = await keyStores.privateKeyStore.generateIdentityKeyPair();
  const pg = await new PrivateGatewayManager(keyStores).get(identity.id);
  const pnra = await poweb.preRegisterNode(pg.identityKeyPair.publicKey);
  const registration = await poweb.registerNode(
    await pg.requestInternetGatewayRegistration(pnra),
  );
  const pgCertificate = registration.privateNodeCertificate;
  await pg.saveInternetGatewayChannel(
    pgCertificate,
    registration.gatewayCertificate,
    registration.sessionKey,
  );
  const igId = await registration.gatewayCertificate.calculateSubjectId();
  const channel = await pg.getChannel(igId, internetAddress);
  assert.ok(channel, 'channel with the Internet gateway');
  console.log('ok registered');

  // 2. A parcel for an endpoint behind this gateway, delivered over PoWeb, is stored for it.
  if (!withParcel) {
    const cca = Buffer.from(await channel.generateCCA());
    assert.equal((await collect(cca)).length, 0);
    console.log('ok nothing queued, no cargo');
    await refusedWith(cca, 'PERMISSION_DENIED');
    console.log('ok reused CCA refused');
    await refusedWith(Buffer.from('not a CCA'), 'UNAUTHENTICATED');
    console.log('ok invalid CCA refused');
    return;
  }
  const endpointKeys = await generateRSAKeyPair();
  const endpointCertificate = await issueEndpointCertificate({
    issuerCertificate: pgCertificate,
    issuerPrivateKey: pg.identityKeyPair.privateKey,
    subjectPublicKey: endpointKeys.publicKey,
    validityEndDate: pgCertificate.expiryDate,
  });
  const senderKeys = await generateRSAKeyPair();
  const pda = await issueDeliveryAuthorization({
    issuerCertificate: endpointCertificate,
    issuerPrivateKey: endpointKeys.privateKey,
    subjectPublicKey: senderKeys.publicKey,
    validityEndDate: pgCertificate.expiryDate,
  });
  const parcel = new Parcel(
    { id: await getIdFromIdentityKey(endpointKeys.publicKey) },
    pda,
    Buffer.from('hello through cargo'),
    { senderCaCertificateChain: [endpointCertificate, pgCertificate] },
  );
  const parcelSerialized = Buffer.from(await parcel.serialize(senderKeys.privateKey));
  await poweb.deliverParcel(
    toArrayBuffer(parcelSerialized),
    new ParcelDeliverySigner(pgCertificate, pg.identityKeyPair.privateKey),
  );
  console.log('ok parcel stored');

  // 3. The CCA brings cargo that validates against our CDA issuer and decrypts with our keys.
  const cca = Buffer.from(await channel.generateCCA());
  const cargoes = await collect(cca);
  assert.equal(cargoes.length, 1);
  const cargo = await Cargo.deserialize(toArrayBuffer(cargoes[0]));
  const cdaIssuers = await keyStores.certificateStore.retrieveAll(pg.id, pg.id);
  await cargo.validate(cdaIssuers.map((path) => path.leafCertificate));
  assert.equal(cargo.recipient.id, pg.id);
  console.log('ok cargo validates against the CDA issuer');
  const messageSet = await pg.unwrapMessagePayload(cargo);
  assert.ok(messageSet instanceof CargoMessageSet);
  const items = messageSet.messages.map((item) => Buffer.from(item));
  assert.ok(
    items.some((item) => item.equals(parcelSerialized)),
    'the stored parcel is in the cargo',
  );
  // A 180-day certificate needs no rotation.
  for (const item of items) {
    await assert.rejects(async () => CertificateRotation.deserialize(toArrayBuffer(item)));
  }
  console.log('ok cargo decrypts and carries the parcel');

  // 4. A CCA is single use; garbage is refused.
  await refusedWith(cca, 'PERMISSION_DENIED');
  console.log('ok reused CCA refused');
  await refusedWith(Buffer.from('not a CCA'), 'UNAUTHENTICATED');
  console.log('ok invalid CCA refused');

  // 5. Collecting again with a new CCA still gets the parcel: collection does not delete it.
  const again = await collect(Buffer.from(await channel.generateCCA()));
  assert.equal(again.length, 1);
  console.log('ok parcels stay until acknowledged');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
