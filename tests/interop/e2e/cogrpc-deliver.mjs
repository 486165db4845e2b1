// End-to-end cargo delivery against a running gateway, driven only by the published clients:
// @relaycorp/relaynet-poweb registers two private gateways, @relaycorp/relaynet-core builds
// parcels and cargo as a private gateway does, and @relaycorp/cogrpc delivers the cargo.
//
// Usage: node e2e/cogrpc-deliver.mjs <poweb-url> <cogrpc-port> <internet-address> <parcel-out>
// Prints one "ok <check>" line per check, then the object keys the gateway must (relayed) and
// must not (not-relayed) write; writes the relayed parcel's bytes to <parcel-out>. Exits 1 on
// the first failure.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';

import { CogRPCClient } from '@relaycorp/cogrpc';
import { PoWebClient } from '@relaycorp/relaynet-poweb';
import {
  Cargo,
  CargoMessageSet,
  generateRSAKeyPair,
  issueDeliveryAuthorization,
  issueEndpointCertificate,
  issueGatewayCertificate,
  Parcel,
  PrivateNodeRegistrationRequest,
  SessionEnvelopedData,
} from '@relaycorp/relaynet-core';

const [url, cogrpcPort, internetAddress, parcelOut] = process.argv.slice(2);
if (!parcelOut) {
  console.error('usage: cogrpc-deliver.mjs <poweb-url> <cogrpc-port> <internet-address> <parcel-out>');
  process.exit(2);
}
const poweb = PoWebClient.initLocal(Number(new URL(url).port));
const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);

async function register() {
  const keyPair = await generateRSAKeyPair();
  const pnra = await poweb.preRegisterNode(keyPair.publicKey);
  const pnrr = new PrivateNodeRegistrationRequest(keyPair.publicKey, pnra);
  const registration = await poweb.registerNode(await pnrr.serialize(keyPair.privateKey));
  return { keyPair, registration };
}

async function endpointBehind(gateway) {
  const keyPair = await generateRSAKeyPair();
  const certificate = await issueEndpointCertificate({
    issuerCertificate: gateway.registration.privateNodeCertificate,
    issuerPrivateKey: gateway.keyPair.privateKey,
    subjectPublicKey: keyPair.publicKey,
    validityEndDate: tomorrow,
  });
  return { keyPair, certificate };
}

// What identifies a parcel stored for a private gateway (the test looks it up in the index).
function indexKey(pgId, recipientId, senderId, parcelId) {
  return `${pgId} ${recipientId} ${senderId} ${parcelId}`;
}

async function cargoFrom(senderKey, senderCertificate, gatewayId, sessionKey, parcels) {
  const messageSet = new CargoMessageSet(parcels);
  const { envelopedData } = await SessionEnvelopedData.encrypt(messageSet.serialize(), sessionKey);
  const cargo = new Cargo(
    { id: gatewayId, internetAddress },
    senderCertificate,
    Buffer.from(envelopedData.serialize()),
  );
  return Buffer.from(await cargo.serialize(senderKey));
}

async function main() {
  // 1. Two private gateways register; the second one's endpoint receives the parcels.
  const sender = await register();
  const receiver = await register();
  const gatewayId = await sender.registration.gatewayCertificate.calculateSubjectId();
  const senderPgId = await sender.registration.privateNodeCertificate.calculateSubjectId();
  const receiverPgId = await receiver.registration.privateNodeCertificate.calculateSubjectId();
  console.log('ok registered two private gateways');

  // 2. An endpoint behind the receiver authorises an endpoint behind the sender (PDA).
  const recipientEndpoint = await endpointBehind(receiver);
  const senderEndpoint = await endpointBehind(sender);
  const pda = await issueDeliveryAuthorization({
    issuerCertificate: recipientEndpoint.certificate,
    issuerPrivateKey: recipientEndpoint.keyPair.privateKey,
    subjectPublicKey: senderEndpoint.keyPair.publicKey,
    validityEndDate: tomorrow,
  });
  const recipientId = await recipientEndpoint.certificate.calculateSubjectId();
  const senderId = await pda.calculateSubjectId();
  const chain = [recipientEndpoint.certificate, receiver.registration.privateNodeCertificate];
  async function parcel(id) {
    const message = new Parcel({ id: recipientId }, pda, Buffer.from(`payload of ${id}`), {
      id,
      senderCaCertificateChain: chain,
    });
    return Buffer.from(await message.serialize(senderEndpoint.keyPair.privateKey));
  }
  const relayedParcel = await parcel('relayed-parcel');
  const strayParcel = await parcel('stray-parcel');

  // 3. Cargo from the registered sender, and from a gateway we never registered (self-issued
  // certificate) carrying an otherwise valid parcel.
  const authorised = await cargoFrom(
    sender.keyPair.privateKey,
    sender.registration.privateNodeCertificate,
    gatewayId,
    sender.registration.sessionKey,
    [relayedParcel],
  );
  const strangerKeyPair = await generateRSAKeyPair();
  const strangerCertificate = await issueGatewayCertificate({
    issuerPrivateKey: strangerKeyPair.privateKey,
    subjectPublicKey: strangerKeyPair.publicKey,
    validityEndDate: tomorrow,
  });
  const unauthorised = await cargoFrom(
    strangerKeyPair.privateKey,
    strangerCertificate,
    gatewayId,
    sender.registration.sessionKey,
    [strayParcel],
  );

  // 4. Deliver both in one call; both must be acknowledged with their ids.
  const cogrpc = await CogRPCClient.initLocalhost(Number(cogrpcPort));
  const ids = ['unauthorised-cargo', 'authorised-cargo'];
  async function* deliveries() {
    yield { localId: ids[0], cargo: unauthorised };
    yield { localId: ids[1], cargo: authorised };
  }
  const acked = [];
  for await (const id of cogrpc.deliverCargo(deliveries())) {
    acked.push(id);
  }
  cogrpc.close();
  assert.deepEqual([...acked].sort(), [...ids].sort());
  console.log('ok every cargo acknowledged with its id');

  writeFileSync(parcelOut, relayedParcel);
  console.log(`relayed ${indexKey(receiverPgId, recipientId, senderId, 'relayed-parcel')}`);
  console.log(`not-relayed ${indexKey(receiverPgId, recipientId, senderId, 'stray-parcel')}`);
  assert.notEqual(senderPgId, receiverPgId);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
