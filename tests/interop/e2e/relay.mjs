// Parcels relayed through a running gateway, driven only by the published clients
// (@relaycorp/relaynet-poweb, @relaycorp/relaynet-pohttp, @relaycorp/relaynet-core).
//
// Usage: node e2e/relay.mjs <scenario> <poweb-port> <pohttp-port> [endpoint-port]
//   pg-to-pg  an endpoint behind one private gateway sends a parcel over PoWeb to an endpoint
//             behind another; the second gateway collects it byte for byte
//   restart   a parcel stored via PoHTTP and an Internet-bound parcel queued via PoWeb (while
//             the endpoint is down) both survive a gateway restart: the script prints "restart",
//             waits for a line on stdin (the test restarts the gateway), then collects and
//             checks the endpoint received the other one
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import readline from 'node:readline';

import { PoWebClient } from '@relaycorp/relaynet-poweb';
import { deliverParcel } from '@relaycorp/relaynet-pohttp';
import { StreamingMode } from '@relaycorp/relaynet-core';

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

async function collectAll(privateGateway) {
  const received = [];
  for await (const collection of poweb.collectParcels(
    [privateGateway.collectionSigner],
    StreamingMode.CLOSE_UPON_COMPLETION,
  )) {
    received.push(Buffer.from(collection.parcelSerialized));
    await collection.ack();
  }
  return received;
}

async function pgToPg() {
  const gatewayA = await registerPrivateGateway(poweb);
  const gatewayB = await registerPrivateGateway(poweb);
  const sender = await privateEndpointBehind(gatewayA);
  const recipient = await privateEndpointBehind(gatewayB);
  const parcel = await parcelToPrivateEndpoint(sender, recipient, 'from A to B');
  await poweb.deliverParcel(parcel, gatewayA.deliverySigner);
  ok('private gateway A delivered the parcel');
  assert.deepEqual(await collectAll(gatewayA), []);
  ok('nothing for private gateway A');
  const received = await collectAll(gatewayB);
  assert.equal(received.length, 1);
  assert.equal(digest(received[0]), digest(parcel));
  ok('private gateway B collected the parcel byte for byte');
  assert.deepEqual(await collectAll(gatewayB), []);
  ok('acknowledged parcel is gone');
}

async function restart() {
  const privateGateway = await registerPrivateGateway(poweb);
  const recipient = await privateEndpointBehind(privateGateway);
  const internetEndpoint = await selfIssuedEndpoint();
  const inbound = await parcelToPrivateEndpoint(internetEndpoint, recipient, 'inbound');
  await deliverParcel(pohttpUrl, inbound, { useTls: false });
  const outbound = await parcelToInternet(recipient, '0deadbeef', 'pong.test', 'outbound');
  await poweb.deliverParcel(outbound, privateGateway.deliverySigner);
  ok('parcels accepted before the restart');

  console.log('restart');
  const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  await lines.next();

  const endpoint = await startEndpoint(Number(endpointPort));
  const collected = await collectAll(privateGateway);
  assert.equal(collected.length, 1);
  assert.equal(digest(collected[0]), digest(inbound));
  ok('stored parcel collected after the restart');
  // The dispatcher is woken at once, so its first attempt (endpoint down) may come just before
  // the SIGKILL, with the retry not yet durable: the parcel then comes back when the dead
  // process's lease (30 s) runs out.
  const timeout = setTimeout(() => {
    console.error('queued parcel did not reach the endpoint in time');
    process.exit(1);
  }, 150_000);
  assert.equal(digest((await endpoint.received).body), digest(outbound));
  clearTimeout(timeout);
  ok('queued parcel delivered after the restart');
  endpoint.server.close();
}

const scenarios = { 'pg-to-pg': pgToPg, restart };
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
