// Parcels relayed in cargo through a running gateway, driven only by the published clients:
// @relaycorp/cogrpc carries cargo made and opened by @relaycorp/relaynet-core's PrivateGateway,
// @relaycorp/relaynet-poweb registers it, @relaycorp/relaynet-pohttp stands for the Internet.
//
// Usage: node e2e/cogrpc-relay.mjs <scenario> <poweb-port> <pohttp-port> <cogrpc-port>
//                                  <internet-address> [endpoint-port]
//   to-internet  a parcel in delivered cargo reaches the Internet endpoint (a PoHTTP server
//                this script runs on endpoint-port) byte for byte
//   from-pohttp  a parcel stored via PoHTTP comes back in collected cargo, which validates and
//                decrypts as the private gateway's own
//   large-cargo  the same with a cargo over 4.4 MB (relaynet-core's own envelopes stop there)
//   pca-first    with a collection record (Internet-bound parcel over PoWeb) and a reply parcel
//                both pending, the cargo lists the PCA before the reply parcel
//   pca-deletes  a parcel acknowledged by a PCA in delivered cargo is never collected again
//   restart      delivers cargo (the gateway runs without workers), prints "restart", waits for
//                a line on stdin (the test restarts the gateway with workers), then expects the
//                parcel at the Internet endpoint
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';
import readline from 'node:readline';

import { PoWebClient } from '@relaycorp/relaynet-poweb';
import { deliverParcel } from '@relaycorp/relaynet-pohttp';
import { CargoMessageSet, Parcel, ParcelCollectionAck } from '@relaycorp/relaynet-core';

import {
  cargoFrom,
  collectItems,
  deliverCargo,
  ok,
  parcelToInternet,
  parcelToPrivateEndpoint,
  privateEndpointBehind,
  registerGatewayWithChannel,
  selfIssuedEndpoint,
  toArrayBuffer,
  within,
} from './lib/peers.mjs';
import { startEndpoint } from './lib/endpoint.mjs';

const [scenario, powebPort, pohttpPort, cogrpcPort, internetAddress, endpointPort] =
  process.argv.slice(2);
if (!internetAddress) {
  console.error(
    'usage: cogrpc-relay.mjs <scenario> <poweb-port> <pohttp-port> <cogrpc-port> ' +
      '<internet-address> [endpoint-port]',
  );
  process.exit(2);
}
const poweb = PoWebClient.initLocal(Number(powebPort));
const pohttpUrl = `http://127.0.0.1:${pohttpPort}`;
/** Generous: a debug build delivers slowly on a loaded machine; retries back off 1 s. */
const DELIVERY_DEADLINE_MS = 90_000;

/** A registered private gateway with one endpoint behind it, and an Internet endpoint. */
async function peers() {
  const privateGateway = await registerGatewayWithChannel(poweb, internetAddress);
  const endpoint = await privateEndpointBehind(privateGateway);
  const internetEndpoint = await selfIssuedEndpoint();
  return { privateGateway, endpoint, internetEndpoint };
}

async function storeViaPohttp(internetEndpoint, endpoint, payload, id) {
  const parcel = await parcelToPrivateEndpoint(internetEndpoint, endpoint, payload, { id });
  await deliverParcel(pohttpUrl, parcel, { useTls: false });
  return parcel;
}

async function deliverInCargo(privateGateway, messages) {
  const cargoes = await cargoFrom(privateGateway, messages);
  assert.equal(cargoes.length, 1);
  assert.deepEqual(await deliverCargo(cogrpcPort, cargoes), ['cargo-0']);
}

const has = (items, bytes) => items.some((item) => item.equals(bytes));

async function toInternet() {
  const { privateGateway, endpoint } = await peers();
  const internet = await startEndpoint(Number(endpointPort));
  const parcel = await parcelToInternet(endpoint, '0deadbeef', 'pong.test', 'in cargo');
  await deliverInCargo(privateGateway, [parcel]);
  ok('cargo acknowledged');
  const { body, type } = await within(
    DELIVERY_DEADLINE_MS,
    'parcel at the endpoint',
    internet.received,
  );
  assert.equal(type, 'application/vnd.awala.parcel');
  assert.ok(body.equals(parcel), 'byte for byte');
  ok('parcel reached the Internet endpoint byte for byte');
  internet.server.close();
}

async function fromPohttp() {
  const { privateGateway, endpoint, internetEndpoint } = await peers();
  const parcel = await storeViaPohttp(internetEndpoint, endpoint, 'via PoHTTP', 'inbound-1');
  ok('parcel stored via PoHTTP');
  const items = await collectItems(cogrpcPort, privateGateway);
  ok('collected cargo validates and decrypts');
  assert.ok(has(items, parcel), 'the stored parcel is in the cargo');
  const item = await CargoMessageSet.deserializeItem(toArrayBuffer(parcel));
  assert.ok(item instanceof Parcel);
  assert.equal(item.recipient.id, endpoint.id);
  ok('cargo carries the parcel byte for byte');
}

/**
 * Two 3 MB parcels make one cargo whose plaintext is over 4,400,265 octets, the size past which
 * relaynet-core cannot decrypt its own envelopes: ours must still open.
 */
async function largeCargo() {
  const { privateGateway, endpoint, internetEndpoint } = await peers();
  const payload = Buffer.alloc(3_000_000, 7);
  const first = await storeViaPohttp(internetEndpoint, endpoint, payload, 'large-1');
  const second = await storeViaPohttp(internetEndpoint, endpoint, payload, 'large-2');
  ok('two 3 MB parcels stored via PoHTTP');
  const items = await collectItems(cogrpcPort, privateGateway);
  assert.ok(has(items, first) && has(items, second), 'both parcels are in the cargo');
  ok('a cargo over 4.4 MB decrypts with relaynet-core');
}

async function pcaFirst() {
  const { privateGateway, endpoint, internetEndpoint } = await peers();
  const outbound = await parcelToInternet(endpoint, internetEndpoint.id, 'pong.test', 'ping', {
    id: 'ping-1',
  });
  await poweb.deliverParcel(outbound, privateGateway.deliverySigner);
  const reply = await storeViaPohttp(internetEndpoint, endpoint, 'pong', 'pong-1');
  ok('parcel delivered and reply stored');
  const items = await collectItems(cogrpcPort, privateGateway);
  const kinds = await Promise.all(
    items.map((item) => CargoMessageSet.deserializeItem(toArrayBuffer(item))),
  );
  const pcaAt = kinds.findIndex(
    (item) =>
      item instanceof ParcelCollectionAck &&
      item.parcelId === 'ping-1' &&
      item.senderEndpointId === endpoint.id &&
      item.recipientEndpointId === internetEndpoint.id,
  );
  const replyAt = items.findIndex((item) => item.equals(reply));
  assert.ok(pcaAt >= 0, 'PCA for the delivered parcel in the cargo');
  assert.ok(replyAt >= 0, 'reply parcel in the cargo');
  assert.ok(pcaAt < replyAt, `PCA at ${pcaAt} before the reply at ${replyAt}`);
  ok('PCA comes before the reply parcel');
}

async function pcaDeletes() {
  const { privateGateway, endpoint, internetEndpoint } = await peers();
  const parcel = await storeViaPohttp(internetEndpoint, endpoint, 'first', 'first-1');
  assert.ok(has(await collectItems(cogrpcPort, privateGateway), parcel));
  ok('parcel collected in cargo');
  const pca = new ParcelCollectionAck(internetEndpoint.id, endpoint.id, 'first-1');
  await deliverInCargo(privateGateway, [Buffer.from(pca.serialize())]);
  ok('PCA delivered in cargo');
  // Unwrapping is asynchronous: collect with fresh CCAs until the parcel is gone.
  const started = Date.now();
  while (has(await collectItems(cogrpcPort, privateGateway), parcel)) {
    assert.ok(Date.now() - started < DELIVERY_DEADLINE_MS, 'parcel still collected');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  ok('acknowledged parcel gone');
  // A later parcel is collected, the acknowledged one still is not.
  const second = await storeViaPohttp(internetEndpoint, endpoint, 'second', 'second-1');
  for (let round = 0; round < 2; round += 1) {
    const items = await collectItems(cogrpcPort, privateGateway);
    assert.ok(has(items, second), 'the later parcel is collected');
    assert.ok(!has(items, parcel), 'the acknowledged parcel came back');
  }
  ok('acknowledged parcel never collected again');
}

async function restart() {
  const { privateGateway, endpoint } = await peers();
  const parcel = await parcelToInternet(endpoint, '0deadbeef', 'pong.test', 'across a kill');
  await deliverInCargo(privateGateway, [parcel]);
  ok('cargo acknowledged before the restart');

  console.log('restart');
  const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  await lines.next();

  const internet = await startEndpoint(Number(endpointPort));
  const { body, type } = await within(
    DELIVERY_DEADLINE_MS,
    'parcel at the endpoint',
    internet.received,
  );
  assert.equal(type, 'application/vnd.awala.parcel');
  assert.ok(body.equals(parcel), 'byte for byte');
  ok('parcel from cargo acked before the kill reached the endpoint');
  internet.server.close();
}

const scenarios = {
  'to-internet': toInternet,
  'from-pohttp': fromPohttp,
  'large-cargo': largeCargo,
  'pca-first': pcaFirst,
  'pca-deletes': pcaDeletes,
  restart,
};
if (!scenarios[scenario]) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
scenarios[scenario]().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
