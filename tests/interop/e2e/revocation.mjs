// Revoking a private gateway, seen by the published clients: its open collection socket is
// closed, and from then on its PoWeb deliveries, collection handshakes, CogRPC collections,
// re-registration and parcels for it from the Internet are refused, while another private
// gateway carries on.
//
// Usage: node e2e/revocation.mjs <poweb-port> <pohttp-port> <cogrpc-port>
// Prints "revoke <revoked id> <other id>" once parcels are stored for both, then waits for a
// line on stdin while the test revokes the first through the admin CLI.
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';
import readline from 'node:readline';

import { PoWebClient } from '@relaycorp/relaynet-poweb';
import { deliverParcel, PoHTTPInvalidParcelError } from '@relaycorp/relaynet-pohttp';
import { ParcelCollectionHandshakeSigner, StreamingMode } from '@relaycorp/relaynet-core';

import {
  collectCargo,
  ok,
  parcelToInternet,
  parcelToPrivateEndpoint,
  privateEndpointBehind,
  registerGatewayWithChannel,
  selfIssuedEndpoint,
  within,
} from './lib/peers.mjs';

const [powebPort, pohttpPort, cogrpcPort] = process.argv.slice(2);
const poweb = PoWebClient.initLocal(Number(powebPort));
const pohttpUrl = `http://127.0.0.1:${pohttpPort}`;
const stdinLines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function collectionSigner(gateway) {
  return new ParcelCollectionHandshakeSigner(gateway.certificate, gateway.keyPair.privateKey);
}

async function collectAll(gateway) {
  const received = [];
  for await (const collection of poweb.collectParcels(
    [collectionSigner(gateway)],
    StreamingMode.CLOSE_UPON_COMPLETION,
  )) {
    received.push(Buffer.from(collection.parcelSerialized));
    await collection.ack();
  }
  return received;
}

async function main() {
  const revoked = await registerGatewayWithChannel(poweb, 'gw.example.com');
  const other = await registerGatewayWithChannel(poweb, 'gw.example.com');
  const revokedEndpoint = await privateEndpointBehind(revoked);
  const otherEndpoint = await privateEndpointBehind(other);
  const internetPeer = await selfIssuedEndpoint();
  for (const payload of ['one', 'two', 'three']) {
    const parcel = await parcelToPrivateEndpoint(internetPeer, revokedEndpoint, payload);
    await deliverParcel(pohttpUrl, parcel, { useTls: false });
  }
  const forOther = await parcelToPrivateEndpoint(internetPeer, otherEndpoint, 'still here');
  await deliverParcel(pohttpUrl, forOther, { useTls: false });
  ok('parcels stored for both gateways');

  // A keep-alive session that receives without acknowledging, so the parcels stay stored (the
  // gateway sends the published client one unacknowledged parcel at a time).
  let received = 0;
  let sawFirst;
  const firstSeen = new Promise((resolve) => {
    sawFirst = resolve;
  });
  const session = (async () => {
    for await (const collection of poweb.collectParcels(
      [collectionSigner(revoked)],
      StreamingMode.KEEP_ALIVE,
    )) {
      assert.ok(collection.parcelSerialized.byteLength > 0);
      received += 1;
      if (received === 1) {
        sawFirst();
      }
    }
  })();
  const sessionEnded = session.then(
    () => 'ended without an error',
    (error) => `${error}`,
  );
  await within(30_000, 'a parcel over keep-alive', firstSeen);
  ok('keep-alive session open');

  console.log(`revoke ${revoked.id} ${other.id}`);
  const { value } = await stdinLines.next();
  assert.equal(value, 'revoked');

  const ending = await within(30_000, 'the revoked session to close', sessionEnded);
  assert.match(ending, /1003|revoked/i, ending);
  ok('open session closed by the revocation');

  await assert.rejects(
    (async () => {
      for await (const _ of poweb.collectParcels(
        [collectionSigner(revoked)],
        StreamingMode.CLOSE_UPON_COMPLETION,
      )) {
        assert.fail('no parcel for a revoked gateway');
      }
    })(),
    (error) => {
      assert.match(`${error}`, /1003|revoked/i);
      return true;
    },
  );
  ok('collection handshake refused');

  const outbound = await parcelToInternet(revokedEndpoint, '0deadbeef', 'pong.test', 'ping');
  await assert.rejects(poweb.deliverParcel(outbound, revoked.deliverySigner), (error) => {
    assert.equal(error.name, 'ParcelDeliveryError', `${error}`);
    assert.match(error.message, /401/);
    return true;
  });
  ok('parcel delivery refused');

  const late = await parcelToPrivateEndpoint(internetPeer, revokedEndpoint, 'too late');
  await assert.rejects(deliverParcel(pohttpUrl, late, { useTls: false }), (error) => {
    assert.ok(error instanceof PoHTTPInvalidParcelError, `${error}`);
    return true;
  });
  ok('parcel for it from the internet refused');

  await assert.rejects(
    collectCargo(cogrpcPort, await revoked.channel.generateCCA()),
    (error) => {
      assert.match(`${error}`, /UNAUTHENTICATED|revoked/i);
      return true;
    },
  );
  ok('cargo collection refused');

  const pnra = await poweb.preRegisterNode(revoked.keyPair.publicKey);
  await assert.rejects(
    poweb.registerNode(await revoked.pg.requestInternetGatewayRegistration(pnra)),
    (error) => {
      assert.match(`${error}`, /403/);
      return true;
    },
  );
  ok('re-registration refused');

  const collected = await collectAll(other);
  assert.equal(collected.length, 1);
  assert.ok(collected[0].equals(forOther));
  ok('other gateway unaffected');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
