// Parcels through a distributed gateway while its engines fail, driven by the published clients.
// Usage: node e2e/engine-faults.mjs <poweb-port> <pohttp-port> <endpoint-port> <engine>...
// For each engine the script prints "stop <engine>" and waits for a line on stdin (the test has
// stopped it), delivers parcels during the outage (some may be refused: 503), prints
// "start <engine>" and waits again (the test has started it), then delivers more, retrying each
// until it is accepted. At the end every parcel the gateway accepted (202) must be collected (to
// a private gateway) or reach the Internet endpoint: nothing acknowledged is lost.
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
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

const [powebPort, pohttpPort, endpointPort, ...engines] = process.argv.slice(2);
const poweb = PoWebClient.initLocal(Number(powebPort));
const pohttpUrl = `http://127.0.0.1:${pohttpPort}`;
const digest = (bytes) => createHash('sha256').update(Buffer.from(bytes)).digest('hex');
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects after `ms`: a gateway that hangs instead of answering counts as a refusal. */
function bounded(ms, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The Internet endpoint: every parcel posted to it, by digest. */
function startInternetEndpoint(port) {
  const received = new Set();
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.add(digest(Buffer.concat(chunks)));
      response.writeHead(202).end();
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, received })));
}

const privateGateway = await registerPrivateGateway(poweb);
const recipient = await privateEndpointBehind(privateGateway);
const internetEndpoint = await selfIssuedEndpoint();
const endpoint = await startInternetEndpoint(Number(endpointPort));
ok('registered');

const acceptedInbound = new Set();
const acceptedOutbound = new Set();
let counter = 0;

/** One inbound (PoHTTP) and one outbound (PoWeb) delivery; true for each the gateway accepted. */
async function deliverPair() {
  counter += 1;
  const inbound = await parcelToPrivateEndpoint(internetEndpoint, recipient, `in-${counter}`);
  const outbound = await parcelToInternet(recipient, '0deadbeef', 'pong.test', `out-${counter}`);
  const results = await Promise.allSettled([
    bounded(15_000, deliverParcel(pohttpUrl, inbound, { useTls: false })),
    bounded(15_000, poweb.deliverParcel(outbound, privateGateway.deliverySigner)),
  ]);
  if (results[0].status === 'fulfilled') acceptedInbound.add(digest(inbound));
  if (results[1].status === 'fulfilled') acceptedOutbound.add(digest(outbound));
  return results.map((result) => result.status === 'fulfilled');
}

/** Delivers pairs until both are accepted, for up to `ms`. */
async function deliverPairUntilAccepted(ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const [inbound, outbound] = await deliverPair();
    if (inbound && outbound) return;
    assert.ok(Date.now() < deadline, 'the gateway did not recover');
    await sleep(500);
  }
}

for (const engine of engines) {
  await deliverPairUntilAccepted(60_000);
  console.log(`stop ${engine}`);
  await lines.next();
  let refused = 0;
  for (let i = 0; i < 4; i += 1) {
    const [inbound, outbound] = await deliverPair();
    refused += Number(!inbound) + Number(!outbound);
  }
  console.log(`${engine} down: ${refused} of 8 deliveries refused`);
  console.log(`start ${engine}`);
  await lines.next();
  for (let i = 0; i < 3; i += 1) await deliverPairUntilAccepted(90_000);
  ok(`${engine}: service resumed without a restart`);
}

// Every parcel the gateway accepted for the private gateway is collected.
const collected = new Set();
const deadline = Date.now() + 120_000;
while ([...acceptedInbound].some((d) => !collected.has(d))) {
  assert.ok(Date.now() < deadline, `collected ${collected.size} of ${acceptedInbound.size}`);
  for await (const collection of poweb.collectParcels(
    [privateGateway.collectionSigner],
    StreamingMode.CLOSE_UPON_COMPLETION,
  )) {
    collected.add(digest(collection.parcelSerialized));
    await collection.ack();
  }
  await sleep(500);
}
ok(`every accepted inbound parcel collected (${acceptedInbound.size})`);

// Every parcel the gateway accepted for the Internet reaches the endpoint.
while ([...acceptedOutbound].some((d) => !endpoint.received.has(d))) {
  assert.ok(
    Date.now() < deadline + 120_000,
    `endpoint received ${endpoint.received.size} of ${acceptedOutbound.size}`,
  );
  await sleep(500);
}
ok(`every accepted outbound parcel delivered (${acceptedOutbound.size})`);
endpoint.server.close();
process.exit(0);
