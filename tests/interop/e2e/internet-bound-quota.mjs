// The Internet-bound quota per private gateway, seen by the published PoWeb client: a private
// gateway sending to an Internet endpoint that is down gets 429 once it has as many parcels
// queued as its quota allows, while another private gateway's parcels are still taken; once the
// endpoint is up and the queued parcels are delivered, the first has room again.
//
// Usage: node e2e/internet-bound-quota.mjs <poweb-port> <endpoint-port> <quota>
// The gateway routes pong.test to 127.0.0.1:<endpoint-port>, where nothing listens at first.
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';

import { PoWebClient } from '@relaycorp/relaynet-poweb';

import { startEndpoint } from './lib/endpoint.mjs';
import {
  deliverOrRefusal,
  ok,
  parcelToInternet,
  privateEndpointBehind,
  registerPrivateGateway,
} from './lib/peers.mjs';

const [powebPort, endpointPort, quotaArg] = process.argv.slice(2);
const quota = Number(quotaArg);
const poweb = PoWebClient.initLocal(Number(powebPort));
const EXTRA = 3;

/** 'accepted', or the refusal's message. */
async function deliver(gateway, sender, payload) {
  const parcel = await parcelToInternet(sender, '0deadbeef', 'pong.test', payload);
  return deliverOrRefusal(poweb, gateway, parcel);
}

async function main() {
  const flooding = await registerPrivateGateway(poweb);
  const normal = await registerPrivateGateway(poweb);
  const floodingSender = await privateEndpointBehind(flooding);
  const normalSender = await privateEndpointBehind(normal);

  const outcomes = [];
  for (let index = 0; index < quota + EXTRA; index += 1) {
    outcomes.push(await deliver(flooding, floodingSender, `flood ${index}`));
  }
  assert.deepEqual(outcomes.slice(0, quota), Array(quota).fill('accepted'));
  for (const refusal of outcomes.slice(quota)) {
    assert.match(refusal, /HTTP 429/);
  }
  ok('parcels past the quota refused with 429');

  for (let index = 0; index < 2; index += 1) {
    assert.equal(await deliver(normal, normalSender, `steady ${index}`), 'accepted');
  }
  ok('another gateway still gets through');

  // The endpoint comes up: the queued parcels are delivered and stop counting (the gateway
  // reloads its count within 10 s).
  const endpoint = await startEndpoint(Number(endpointPort));
  await endpoint.received;
  const deadline = Date.now() + 60_000;
  let outcome = await deliver(flooding, floodingSender, 'after delivery');
  while (outcome !== 'accepted' && Date.now() < deadline) {
    assert.match(outcome, /HTTP 429/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    outcome = await deliver(flooding, floodingSender, 'after delivery');
  }
  assert.equal(outcome, 'accepted');
  ok('room again once delivered');
  endpoint.server.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
