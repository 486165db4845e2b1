// Parcel collection at volume with the published PoWeb client, which reads deliveries as a byte
// stream: frames that reach it together are merged and all but the first are lost. Every
// scenario checks that each parcel arrives exactly once (at least once across a restart) and that
// collections end by themselves.
//
// Usage: node e2e/collection-volume.mjs <scenario> <poweb-port> <pohttp-port> [args]
//   queued N      N parcels of mixed sizes (up to 1 MiB) wait; one close-upon-completion
//                 collection takes each once and ends by itself; a second one finds nothing
//   burst N       a keep-alive collection is open; N parcels are delivered at once over PoHTTP
//                 and all arrive on that socket, without a reconnect
//   peers K N     K private gateways at once, each with a keep-alive socket open and N parcels
//                 delivered in one burst across all of them; each gets exactly its own
//   restart N     N parcels wait; half are collected and acknowledged, then the script prints
//                 "restart" and waits for a line on stdin (the test SIGKILLs and restarts the
//                 gateway); a close-upon-completion collection then takes the rest
// Prints one "ok <check>" line per check; exits 1 on the first failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import readline from 'node:readline';

import { deliverParcel } from '@relaycorp/relaynet-pohttp';
import { PoWebClient } from '@relaycorp/relaynet-poweb';
import { StreamingMode } from '@relaycorp/relaynet-core';

import {
  ok,
  parcelToPrivateEndpoint,
  privateEndpointBehind,
  registerPrivateGateway,
  selfIssuedEndpoint,
  within,
} from './lib/peers.mjs';

const [scenario, powebPort, pohttpPort, ...rest] = process.argv.slice(2);
const client = PoWebClient.initLocal(Number(powebPort));
const pohttpUrl = `http://127.0.0.1:${pohttpPort}`;
/** Generous: a collection that stops making progress fails here instead of hanging the suite. */
const COLLECTION_DEADLINE_MS = 180_000;
/** Payload sizes, in turn: from a few bytes to 1 MiB. */
const SIZES = [16, 1024, 10 * 1024, 64 * 1024, 200 * 1024, 1024 * 1024];

const digest = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** A private gateway, an endpoint behind it and an Internet peer that sends it parcels. */
async function peer() {
  const pg = await registerPrivateGateway(client);
  const recipient = await privateEndpointBehind(pg);
  const sender = await selfIssuedEndpoint();
  return { pg, recipient, sender };
}

/** `count` parcels for `peer`'s endpoint, of mixed sizes, serialized. */
async function makeParcels({ recipient, sender }, count, offset = 0) {
  const parcels = [];
  for (let index = 0; index < count; index += 1) {
    const size = SIZES[(index + offset) % SIZES.length];
    const payload = Buffer.alloc(size, index % 251);
    payload.write(`parcel ${offset + index}`);
    parcels.push(await parcelToPrivateEndpoint(sender, recipient, payload));
  }
  return parcels;
}

/** Delivers `parcels` over PoHTTP, `concurrency` at a time (all at once by default). */
async function deliverAll(parcels, concurrency = parcels.length) {
  const queue = [...parcels];
  const worker = async () => {
    for (let parcel = queue.shift(); parcel; parcel = queue.shift()) {
      await deliverParcel(pohttpUrl, parcel, { useTls: false });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** Collects in close-upon-completion mode, acknowledging each parcel; stops after `limit`. */
async function collectUponCompletion(pg, limit = Infinity) {
  const received = [];
  const collecting = (async () => {
    for await (const collection of client.collectParcels(
      [pg.collectionSigner],
      StreamingMode.CLOSE_UPON_COMPLETION,
    )) {
      received.push(Buffer.from(collection.parcelSerialized));
      await collection.ack();
      if (received.length >= limit) {
        break;
      }
    }
  })();
  await within(COLLECTION_DEADLINE_MS, 'close-upon-completion collection ends', collecting);
  return received;
}

/**
 * Opens a keep-alive collection for `pg`, calls `onOpen` after its first handshake, and
 * resolves with what it received once `expected` parcels arrived; counts handshakes.
 */
async function collectKeepAlive(pg, expected, onOpen) {
  const received = [];
  let handshakes = 0;
  const collecting = (async () => {
    for await (const collection of client.collectParcels(
      [pg.collectionSigner],
      StreamingMode.KEEP_ALIVE,
      () => {
        handshakes += 1;
        if (handshakes === 1) {
          onOpen();
        }
      },
    )) {
      received.push(Buffer.from(collection.parcelSerialized));
      await collection.ack();
      if (received.length >= expected) {
        break;
      }
    }
  })();
  await within(COLLECTION_DEADLINE_MS, `keep-alive collection of ${expected} parcels`, collecting);
  return { received, handshakes };
}

/** Asserts `received` holds each of `sent` exactly once, and nothing else. */
function assertExactlyOnce(received, sent, who = 'collection') {
  const expected = sent.map(digest).sort();
  const got = received.map(digest).sort();
  assert.equal(got.length, expected.length, `${who}: ${got.length} of ${expected.length}`);
  assert.deepEqual(got, expected, `${who}: each parcel exactly once, byte for byte`);
}

async function queued([count = '100']) {
  const p = await peer();
  const parcels = await makeParcels(p, Number(count));
  await deliverAll(parcels, 8);
  ok(`${parcels.length} parcels of mixed sizes queued`);
  assertExactlyOnce(await collectUponCompletion(p.pg), parcels);
  ok('one close-upon-completion collection took each once and ended by itself');
  assert.deepEqual(await collectUponCompletion(p.pg), []);
  ok('nothing left after the acknowledgements');
}

/** One keep-alive socket per peer; `count` parcels per peer delivered in one burst. */
async function burstTo(peers, count) {
  const parcelsByPeer = await Promise.all(peers.map((p) => makeParcels(p, count)));
  let opened = 0;
  let burst;
  let signalAllOpen;
  const allOpen = new Promise((resolve) => {
    signalAllOpen = resolve;
  });
  const collections = peers.map((p) =>
    collectKeepAlive(p.pg, count, () => {
      opened += 1;
      if (opened === peers.length) {
        signalAllOpen();
      }
    }),
  );
  await within(30_000, 'every keep-alive socket opened', allOpen);
  // Interleaved across peers, all at once.
  const everything = [];
  for (let index = 0; index < count; index += 1) {
    for (const parcels of parcelsByPeer) {
      everything.push(parcels[index]);
    }
  }
  burst = deliverAll(everything);
  const results = await Promise.all(collections);
  await burst;
  results.forEach(({ received, handshakes }, index) => {
    assert.equal(handshakes, 1, `peer ${index}: no reconnect`);
    assertExactlyOnce(received, parcelsByPeer[index], `peer ${index}`);
  });
}

async function burst([count = '50']) {
  await burstTo([await peer()], Number(count));
  ok('a burst reached the open keep-alive socket, each parcel once, without a reconnect');
}

async function peers([peerCount = '3', count = '20']) {
  const all = [];
  for (let index = 0; index < Number(peerCount); index += 1) {
    all.push(await peer());
  }
  await burstTo(all, Number(count));
  ok('several private gateways each got exactly their own burst');
}

async function restart([count = '40']) {
  const p = await peer();
  const parcels = await makeParcels(p, Number(count));
  await deliverAll(parcels, 8);
  const half = Math.floor(parcels.length / 2);
  const before = await collectUponCompletion(p.pg, half);
  assert.equal(before.length, half);
  ok(`${half} of ${parcels.length} collected before the restart`);
  console.log('restart');
  const stdin = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  await stdin.next();
  const after = await collectUponCompletion(p.pg);
  const sentDigests = new Set(parcels.map(digest));
  const beforeDigests = new Set(before.map(digest));
  for (const parcel of [...before, ...after]) {
    assert.ok(sentDigests.has(digest(parcel)), 'only parcels that were sent');
  }
  const union = new Set([...beforeDigests, ...after.map(digest)]);
  assert.equal(union.size, parcels.length, 'every parcel collected');
  const again = after.filter((parcel) => beforeDigests.has(digest(parcel)));
  // ACKs are not confirmed (RS-016): a deletion still in its group commit when the process dies
  // is lost, so those parcels come again. They are few: deletions trail the ACKs by one commit.
  assert.ok(again.length <= 8, `${again.length} parcels collected twice`);
  ok(`the rest collected after the restart (${again.length} again)`);
  client.close?.();
}

const scenarios = { queued, burst, peers, restart };
const run = scenarios[scenario];
if (!run || !powebPort || !pohttpPort) {
  console.error(`usage: collection-volume.mjs ${Object.keys(scenarios).join('|')} <poweb-port> <pohttp-port> [args]`);
  process.exit(2);
}
run(rest).then(
  () => process.exit(0),
  (error) => {
    console.error(`FAIL ${error.stack ?? error}`);
    process.exit(1);
  },
);
