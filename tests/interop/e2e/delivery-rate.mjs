// The delivery rate per private gateway, seen by the published PoWeb client: a private gateway
// posting parcels faster than its rate gets 429 past its burst, while another private gateway's
// deliveries, made at the same time, all go through.
//
// Usage: node e2e/delivery-rate.mjs <poweb-port> <burst>
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';

import { PoWebClient } from '@relaycorp/relaynet-poweb';

import {
  deliverOrRefusal,
  ok,
  parcelToInternet,
  privateEndpointBehind,
  registerPrivateGateway,
} from './lib/peers.mjs';

const [powebPort, burstArg] = process.argv.slice(2);
const burst = Number(burstArg);
const poweb = PoWebClient.initLocal(Number(powebPort));

async function parcels(sender, count, label) {
  const made = [];
  for (let index = 0; index < count; index += 1) {
    made.push(await parcelToInternet(sender, '0deadbeef', 'pong.test', `${label} ${index}`));
  }
  return made;
}

async function main() {
  const flooding = await registerPrivateGateway(poweb);
  const normal = await registerPrivateGateway(poweb);
  const flood = await parcels(await privateEndpointBehind(flooding), burst * 3, 'flood');
  const steady = await parcels(await privateEndpointBehind(normal), 5, 'steady');

  const outcomes = await Promise.all([
    ...flood.map((parcel) => deliverOrRefusal(poweb, flooding, parcel)),
    ...steady.map((parcel) => deliverOrRefusal(poweb, normal, parcel)),
  ]);
  const floodOutcomes = outcomes.slice(0, flood.length);
  const accepted = floodOutcomes.filter((outcome) => outcome === 'accepted').length;
  assert.ok(accepted >= burst && accepted < flood.length, `${accepted} of ${flood.length} taken`);
  for (const refusal of floodOutcomes.filter((outcome) => outcome !== 'accepted')) {
    assert.match(refusal, /HTTP 429/);
  }
  ok('deliveries past the burst refused with 429');
  assert.deepEqual(outcomes.slice(flood.length), Array(steady.length).fill('accepted'));
  ok('another gateway delivered everything meanwhile');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
