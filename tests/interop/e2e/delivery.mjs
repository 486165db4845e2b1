// End-to-end parcel delivery through a running gateway, driven only by the published clients:
// @relaycorp/relaynet-poweb (private gateways), @relaycorp/relaynet-pohttp (Internet endpoints)
// and @relaycorp/relaynet-core (keys, certificates, parcels).
//
// Usage: node e2e/delivery.mjs <scenario> <poweb-port> <pohttp-port> [endpoint-port]
//   pohttp        PoHTTP valid, duplicate, unauthorized and malformed parcels
//   poweb-refused PoWeb deliveries refused for a bad countersignature and an invalid parcel
//   to-internet   a PoWeb parcel for pong.test reaches the endpoint on <endpoint-port>
//   endpoint-late the same, but the endpoint only starts listening after the delivery
//   to-address    a PoWeb parcel for the Internet address given instead of <endpoint-port>
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { PoWebClient } from '@relaycorp/relaynet-poweb';
import {
  deliverParcel,
  PoHTTPClientBindingError,
  PoHTTPInvalidParcelError,
} from '@relaycorp/relaynet-pohttp';
import { ParcelDeliverySigner } from '@relaycorp/relaynet-core';

import {
  ok,
  parcelToInternet,
  parcelToPrivateEndpoint,
  privateEndpointBehind,
  registerPrivateGateway,
  selfIssuedEndpoint,
} from './lib/peers.mjs';
import { startEndpoint } from './lib/endpoint.mjs';

const [scenario, powebPort, pohttpPort, endpointPort] = process.argv.slice(2);
const poweb = PoWebClient.initLocal(Number(powebPort));
const pohttpUrl = `http://127.0.0.1:${pohttpPort}`;
const digest = (bytes) => createHash('sha256').update(bytes).digest('hex');

async function pohttp() {
  const privateGateway = await registerPrivateGateway(poweb);
  const recipient = await privateEndpointBehind(privateGateway);
  const internetEndpoint = await selfIssuedEndpoint();
  const parcel = await parcelToPrivateEndpoint(internetEndpoint, recipient, 'hello');
  const response = await deliverParcel(pohttpUrl, parcel, { useTls: false });
  assert.equal(response.status, 202);
  ok('pohttp parcel accepted');
  const again = await deliverParcel(pohttpUrl, parcel, { useTls: false });
  assert.equal(again.status, 202);
  ok('pohttp duplicate accepted');

  // A recipient whose chain does not run through this gateway: the gateway cannot vouch for it.
  const stranger = await selfIssuedEndpoint();
  const strangerRecipient = { ...stranger, chain: [stranger.certificate] };
  const unauthorized = await parcelToPrivateEndpoint(internetEndpoint, strangerRecipient, 'x');
  await assert.rejects(deliverParcel(pohttpUrl, unauthorized, { useTls: false }), (error) => {
    assert.ok(error instanceof PoHTTPInvalidParcelError, `${error}`);
    return true;
  });
  ok('pohttp unauthorized parcel refused');
  await assert.rejects(
    deliverParcel(pohttpUrl, Buffer.from('not a parcel'), { useTls: false }),
    (error) => {
      assert.ok(error instanceof PoHTTPClientBindingError, `${error}`);
      return true;
    },
  );
  ok('pohttp malformed parcel refused');
}

async function powebRefused() {
  const privateGateway = await registerPrivateGateway(poweb);
  const sender = await privateEndpointBehind(privateGateway);
  const parcel = await parcelToInternet(sender, '0deadbeef', 'pong.test', 'ping');

  const impostor = await selfIssuedEndpoint();
  const badSigner = new ParcelDeliverySigner(impostor.certificate, impostor.keyPair.privateKey);
  await assert.rejects(poweb.deliverParcel(parcel, badSigner), (error) => {
    assert.equal(error.name, 'ParcelDeliveryError', `${error}`);
    assert.match(error.message, /401/);
    return true;
  });
  ok('poweb delivery with a foreign countersignature refused');

  const expired = await parcelToInternet(sender, '0deadbeef', 'pong.test', 'late', {
    creationDate: new Date(Date.now() - 120_000),
    ttl: 60,
  });
  await assert.rejects(poweb.deliverParcel(expired, privateGateway.deliverySigner), (error) => {
    assert.equal(error.name, 'RefusedParcelError', `${error}`);
    return true;
  });
  ok('poweb expired parcel refused');
}

async function toInternet(late) {
  const privateGateway = await registerPrivateGateway(poweb);
  const sender = await privateEndpointBehind(privateGateway);
  const parcel = await parcelToInternet(sender, '0deadbeef', 'pong.test', 'ping');
  let endpoint = late ? null : await startEndpoint(Number(endpointPort));
  await poweb.deliverParcel(parcel, privateGateway.deliverySigner);
  ok('poweb parcel for the internet accepted');
  await poweb.deliverParcel(parcel, privateGateway.deliverySigner);
  ok('poweb duplicate accepted');
  if (late) {
    // The gateway's first attempts fail (connection refused); it must retry.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    endpoint = await startEndpoint(Number(endpointPort));
  }
  const timeout = setTimeout(() => {
    console.error('parcel did not reach the endpoint in time');
    process.exit(1);
  }, 60_000);
  const { body, type } = await endpoint.received;
  clearTimeout(timeout);
  assert.equal(type, 'application/vnd.awala.parcel');
  assert.equal(digest(body), digest(parcel));
  ok('endpoint received the parcel byte for byte');
  endpoint.server.close();
}

// The gateway takes the parcel (202); what its worker then does is for the caller to check.
async function toAddress(address) {
  const privateGateway = await registerPrivateGateway(poweb);
  const sender = await privateEndpointBehind(privateGateway);
  const parcel = await parcelToInternet(sender, '0deadbeef', address, 'probe');
  await poweb.deliverParcel(parcel, privateGateway.deliverySigner);
  ok(`poweb parcel for ${address} accepted`);
}

const scenarios = {
  pohttp,
  'poweb-refused': powebRefused,
  'to-internet': () => toInternet(false),
  'endpoint-late': () => toInternet(true),
  'to-address': () => toAddress(endpointPort),
};
if (!scenarios[scenario]) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
scenarios[scenario]().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
