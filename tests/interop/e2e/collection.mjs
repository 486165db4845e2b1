// End-to-end parcel collection over the PoWeb WebSocket, driven by the published client
// @relaycorp/relaynet-poweb (relaynet-core makes the keys, certificates and parcels).
//
// Usage: node e2e/collection.mjs <poweb-url> [pohttp-url]
// With a PoHTTP URL, parcels are delivered there with @relaycorp/relaynet-pohttp. Without one,
// each parcel is printed as "parcel <base64>" and the script waits for a "stored" line on stdin
// (the driving test stores it through the gateway's router).
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';
import readline from 'node:readline';

import { PoWebClient } from '@relaycorp/relaynet-poweb';
import { deliverParcel } from '@relaycorp/relaynet-pohttp';
import {
  generateRSAKeyPair,
  issueDeliveryAuthorization,
  issueEndpointCertificate,
  Parcel,
  ParcelCollectionHandshakeSigner,
  PrivateNodeRegistrationRequest,
  StreamingMode,
} from '@relaycorp/relaynet-core';

const [url, pohttpUrl] = process.argv.slice(2);
if (!url) {
  console.error('usage: collection.mjs <poweb-url> [pohttp-url]');
  process.exit(2);
}
const client = PoWebClient.initLocal(Number(new URL(url).port));
const stdinLines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function register() {
  const keyPair = await generateRSAKeyPair();
  const pnra = await client.preRegisterNode(keyPair.publicKey);
  const pnrr = new PrivateNodeRegistrationRequest(keyPair.publicKey, pnra);
  const registration = await client.registerNode(await pnrr.serialize(keyPair.privateKey));
  return { keyPair, certificate: registration.privateNodeCertificate };
}

/** A parcel from an Internet peer to an endpoint behind the private gateway `pg`. */
async function makeParcelFactory(pg) {
  const endpointKeyPair = await generateRSAKeyPair();
  const validityEndDate = pg.certificate.expiryDate;
  const endpointCertificate = await issueEndpointCertificate({
    issuerCertificate: pg.certificate,
    issuerPrivateKey: pg.keyPair.privateKey,
    subjectPublicKey: endpointKeyPair.publicKey,
    validityEndDate,
  });
  const peerKeyPair = await generateRSAKeyPair();
  const pda = await issueDeliveryAuthorization({
    issuerCertificate: endpointCertificate,
    issuerPrivateKey: endpointKeyPair.privateKey,
    subjectPublicKey: peerKeyPair.publicKey,
    validityEndDate,
  });
  const recipientId = await endpointCertificate.calculateSubjectId();
  return async (payload) => {
    const parcel = new Parcel({ id: recipientId }, pda, Buffer.from(payload), {
      senderCaCertificateChain: [endpointCertificate, pg.certificate],
    });
    return Buffer.from(await parcel.serialize(peerKeyPair.privateKey));
  };
}

async function deliver(parcelSerialized) {
  if (pohttpUrl) {
    await deliverParcel(pohttpUrl, parcelSerialized, { useTls: false });
    return;
  }
  console.log(`parcel ${parcelSerialized.toString('base64')}`);
  const { value } = await stdinLines.next();
  assert.equal(value, 'stored');
}

/** Collects in close-upon-completion mode, acknowledging each parcel. */
async function collectAll(signer) {
  const received = [];
  for await (const collection of client.collectParcels(
    [signer],
    StreamingMode.CLOSE_UPON_COMPLETION,
  )) {
    received.push(Buffer.from(collection.parcelSerialized));
    await collection.ack();
  }
  return received;
}

async function main() {
  const pg = await register();
  const signer = new ParcelCollectionHandshakeSigner(pg.certificate, pg.keyPair.privateKey);
  const makeParcel = await makeParcelFactory(pg);
  console.log('ok registered');

  assert.deepEqual(await collectAll(signer), []);
  console.log('ok empty collection ends normally');

  const first = await makeParcel('first');
  await deliver(first);
  const collected = await collectAll(signer);
  assert.equal(collected.length, 1);
  assert.ok(collected[0].equals(first), 'collected bytes are the delivered bytes');
  console.log('ok parcel collected and acknowledged');

  assert.deepEqual(await collectAll(signer), []);
  console.log('ok acknowledged parcel is gone');

  // Keep-alive: a parcel that arrives while the socket is open is pushed.
  const second = await makeParcel('second');
  let handshakes = 0;
  for await (const collection of client.collectParcels(
    [signer],
    StreamingMode.KEEP_ALIVE,
    () => {
      handshakes += 1;
      if (handshakes === 1) {
        deliver(second).catch((error) => {
          console.error(`FAIL delivering while collecting: ${error.stack ?? error}`);
          process.exit(1);
        });
      }
    },
  )) {
    assert.ok(Buffer.from(collection.parcelSerialized).equals(second));
    await collection.ack();
    break;
  }
  assert.equal(handshakes, 1);
  console.log('ok keep-alive pushes a parcel stored while open');

  // Pings keep an idle keep-alive socket open past the client's 7 s ping timeout: the client
  // would silently reconnect (and handshake again) otherwise.
  // ACKs are not confirmed (RS-016): the client closed right after acknowledging `second`, so
  // this socket may list it before its deletion lands and deliver it again (at least once).
  let idleHandshakes = 0;
  const idle = (async () => {
    for await (const collection of client.collectParcels(
      [signer],
      StreamingMode.KEEP_ALIVE,
      () => {
        idleHandshakes += 1;
      },
    )) {
      assert.ok(Buffer.from(collection.parcelSerialized).equals(second), 'nothing else queued');
      await collection.ack();
    }
  })();
  await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, 9_000))]);
  assert.equal(idleHandshakes, 1);
  console.log('ok idle keep-alive socket stays open with pings');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
