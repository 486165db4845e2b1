// Parcel collection edge cases through a running gateway, driven only by the published clients:
// a parcel collected but not acknowledged comes again; a handshake signed by a stranger is
// refused.
//
// Usage: node e2e/collection-refusals.mjs <poweb-port> <pohttp-port>
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';

import { PoWebClient } from '@relaycorp/relaynet-poweb';
import { deliverParcel } from '@relaycorp/relaynet-pohttp';
import { ParcelCollectionHandshakeSigner, StreamingMode } from '@relaycorp/relaynet-core';

import {
  ok,
  parcelToPrivateEndpoint,
  privateEndpointBehind,
  registerPrivateGateway,
  selfIssuedEndpoint,
} from './lib/peers.mjs';

const [powebPort, pohttpPort] = process.argv.slice(2);
const poweb = PoWebClient.initLocal(Number(powebPort));
const pohttpUrl = `http://127.0.0.1:${pohttpPort}`;

async function main() {
  const privateGateway = await registerPrivateGateway(poweb);
  const recipient = await privateEndpointBehind(privateGateway);
  const sender = await selfIssuedEndpoint();
  const parcel = await parcelToPrivateEndpoint(sender, recipient, 'collect me twice');
  await deliverParcel(pohttpUrl, parcel, { useTls: false });

  // 1. Received but not acknowledged: the client hangs up.
  for await (const collection of poweb.collectParcels(
    [privateGateway.collectionSigner],
    StreamingMode.CLOSE_UPON_COMPLETION,
  )) {
    assert.ok(Buffer.from(collection.parcelSerialized).equals(parcel));
    break;
  }
  ok('parcel received without acknowledging it');

  // 2. It comes again, and goes once acknowledged.
  const again = [];
  for await (const collection of poweb.collectParcels(
    [privateGateway.collectionSigner],
    StreamingMode.CLOSE_UPON_COMPLETION,
  )) {
    again.push(Buffer.from(collection.parcelSerialized));
    await collection.ack();
  }
  assert.equal(again.length, 1);
  assert.ok(again[0].equals(parcel));
  ok('unacknowledged parcel collected again');
  for await (const _ of poweb.collectParcels(
    [privateGateway.collectionSigner],
    StreamingMode.CLOSE_UPON_COMPLETION,
  )) {
    assert.fail('nothing should be left');
  }
  ok('acknowledged parcel is gone');

  // 3. A handshake signed with a certificate this gateway did not issue is refused.
  const stranger = await selfIssuedEndpoint();
  const strangerSigner = new ParcelCollectionHandshakeSigner(
    stranger.certificate,
    stranger.keyPair.privateKey,
  );
  await assert.rejects(
    (async () => {
      for await (const _ of poweb.collectParcels([strangerSigner], StreamingMode.KEEP_ALIVE)) {
        assert.fail('no parcel for a stranger');
      }
    })(),
    (error) => {
      assert.match(`${error}`, /1003|handshake|signature/i);
      return true;
    },
  );
  ok('handshake by a stranger refused');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
