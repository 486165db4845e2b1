// Storage quotas per private gateway, seen by the published clients: an Internet peer floods one
// private gateway past its quota and gets 507 (which @relaycorp/relaynet-pohttp reports as a
// delivery failure to retry), while parcels for another private gateway, sent during the flood,
// all get through; once the flooded gateway collects, it has room again.
//
// Usage: node e2e/storage-quota.mjs <poweb-port> <pohttp-port> <quota>
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';

import { PoWebClient } from '@relaycorp/relaynet-poweb';
import { deliverParcel, PoHTTPError } from '@relaycorp/relaynet-pohttp';
import { StreamingMode } from '@relaycorp/relaynet-core';

import {
  ok,
  parcelToPrivateEndpoint,
  privateEndpointBehind,
  registerPrivateGateway,
  selfIssuedEndpoint,
} from './lib/peers.mjs';

const [powebPort, pohttpPort, quotaArg] = process.argv.slice(2);
const quota = Number(quotaArg);
const poweb = PoWebClient.initLocal(Number(powebPort));
const pohttpUrl = `http://127.0.0.1:${pohttpPort}`;
const EXTRA = 10;
const NORMAL = 5;

/** 'accepted', or the refusal's message. */
async function deliver(parcel) {
  try {
    await deliverParcel(pohttpUrl, parcel, { useTls: false });
    return 'accepted';
  } catch (error) {
    assert.ok(error instanceof PoHTTPError, `${error}`);
    return error.message;
  }
}

async function collectAll(gateway) {
  const received = [];
  for await (const collection of poweb.collectParcels(
    [gateway.collectionSigner],
    StreamingMode.CLOSE_UPON_COMPLETION,
  )) {
    received.push(Buffer.from(collection.parcelSerialized));
    await collection.ack();
  }
  return received;
}

async function main() {
  const flooded = await registerPrivateGateway(poweb);
  const normal = await registerPrivateGateway(poweb);
  const floodedEndpoint = await privateEndpointBehind(flooded);
  const normalEndpoint = await privateEndpointBehind(normal);
  const flooder = await selfIssuedEndpoint();
  const peer = await selfIssuedEndpoint();

  const flood = [];
  for (let index = 0; index < quota + EXTRA; index += 1) {
    flood.push(await parcelToPrivateEndpoint(flooder, floodedEndpoint, `flood ${index}`));
  }
  const steady = [];
  for (let index = 0; index < NORMAL; index += 1) {
    steady.push(await parcelToPrivateEndpoint(peer, normalEndpoint, `steady ${index}`));
  }
  // The steady parcels go out in the middle of the flood, all at once with it.
  const outcomes = await Promise.all([
    ...flood.map((parcel) => deliver(parcel)),
    ...steady.map((parcel) => deliver(parcel)),
  ]);
  const floodOutcomes = outcomes.slice(0, flood.length);
  const steadyOutcomes = outcomes.slice(flood.length);
  assert.equal(floodOutcomes.filter((outcome) => outcome === 'accepted').length, quota);
  const refusals = floodOutcomes.filter((outcome) => outcome !== 'accepted');
  assert.equal(refusals.length, EXTRA);
  for (const refusal of refusals) {
    assert.match(refusal, /HTTP 507/);
  }
  ok('flood past the quota refused with 507');
  assert.deepEqual(steadyOutcomes, Array(NORMAL).fill('accepted'));
  ok('normal gateway stored everything during the flood');

  const collected = await collectAll(normal);
  assert.equal(collected.length, NORMAL);
  ok('normal gateway collected everything');

  const drained = await collectAll(flooded);
  assert.equal(drained.length, quota);
  ok('flooded gateway collected what was stored');
  // Its total is reloaded within the refresh period (10 s).
  const late = await parcelToPrivateEndpoint(flooder, floodedEndpoint, 'after collecting');
  const deadline = Date.now() + 30_000;
  let outcome = await deliver(late);
  while (outcome !== 'accepted' && Date.now() < deadline) {
    assert.match(outcome, /HTTP 507/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    outcome = await deliver(late);
  }
  assert.equal(outcome, 'accepted');
  ok('room again after collecting');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
