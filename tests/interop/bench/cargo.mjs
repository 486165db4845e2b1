// The cargo operations of benches/cargo.rs in relaynet-core, so that both are measured side by
// side in one run (scripts/bench.sh). relaynet-core has no gateway, so these are the library
// calls a gateway built on it would make, without storage:
// - unwrap: decrypt a cargo of 1,000 parcels with 1 KiB payloads with the session key,
//   deserialize its CargoMessageSet, then Parcel.deserialize + validate (against the gateway's
//   certificate) each parcel. No routing: the library has none (the Rust figure also stores
//   each parcel and notifies its collectors).
// - collect: batch 8 MiB of parcels (1,024 of 8 KiB, about 4 KiB of payload each) with
//   CargoMessageSet.batchMessagesSerialized, then SessionEnvelopedData.encrypt +
//   Cargo.serialize each batch (the Rust figure also checks the CCA and reads the store).
// Prints one JSON object of medians over RUNS runs, in criterion's units.
import {
  Cargo,
  CargoMessageSet,
  generateRSAKeyPair,
  issueDeliveryAuthorization,
  issueEndpointCertificate,
  issueGatewayCertificate,
  Parcel,
  SessionKeyPair,
  SessionEnvelopedData,
} from '@relaycorp/relaynet-core';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const UNWRAP_PARCELS = 1000;
const UNWRAP_PAYLOAD = 1024;
const COLLECT_PARCELS = 1024;
const COLLECT_PARCEL_LENGTH = 8192;
const MIB = 1024 * 1024;

/** Median duration in seconds of RUNS runs of `operation`, after a warm-up run if `warmUp`. */
async function medianSeconds(operation, warmUp = true) {
  if (warmUp) {
    await operation();
  }
  const durations = [];
  for (let run = 0; run < RUNS; run += 1) {
    const start = performance.now();
    await operation();
    durations.push((performance.now() - start) / 1000);
  }
  durations.sort((a, b) => a - b);
  const middle = Math.floor(durations.length / 2);
  return durations.length % 2 ? durations[middle] : (durations[middle - 1] + durations[middle]) / 2;
}

// Internet gateway → private gateway → recipient endpoint → PDA for the sender endpoint.
const now = new Date();
const end = new Date(now.getTime() + 30 * 24 * 3600 * 1000);
const ig = await generateRSAKeyPair();
const pg = await generateRSAKeyPair();
const recipient = await generateRSAKeyPair();
const sender = await generateRSAKeyPair();
const igCert = await issueGatewayCertificate({
  issuerPrivateKey: ig.privateKey,
  subjectPublicKey: ig.publicKey,
  validityEndDate: end,
});
const pgCert = await issueGatewayCertificate({
  issuerCertificate: igCert,
  issuerPrivateKey: ig.privateKey,
  subjectPublicKey: pg.publicKey,
  validityEndDate: end,
});
const recipientCert = await issueEndpointCertificate({
  issuerCertificate: pgCert,
  issuerPrivateKey: pg.privateKey,
  subjectPublicKey: recipient.publicKey,
  validityEndDate: end,
});
const pda = await issueDeliveryAuthorization({
  issuerCertificate: recipientCert,
  issuerPrivateKey: recipient.privateKey,
  subjectPublicKey: sender.publicKey,
  validityEndDate: end,
});
const recipientId = await recipientCert.calculateSubjectId();
const igId = await igCert.calculateSubjectId();
const pgId = await pgCert.calculateSubjectId();

async function parcel(payloadLength) {
  const message = new Parcel({ id: recipientId }, pda, Buffer.alloc(payloadLength, 7), {
    senderCaCertificateChain: [recipientCert, pgCert],
    ttl: 86_400,
  });
  return message.serialize(sender.privateKey);
}

/** The payload length that makes a parcel `total` octets long. */
async function payloadForLength(total) {
  let payload = total;
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const length = (await parcel(payload)).byteLength;
    if (length === total) {
      break;
    }
    payload = Math.max(0, payload + total - length);
  }
  return payload;
}

// Unwrapping: the cargo from the private gateway, encrypted to the gateway's session key.
const gatewaySessionKey = await SessionKeyPair.generate();
const unwrapParcels = [];
for (let index = 0; index < UNWRAP_PARCELS; index += 1) {
  unwrapParcels.push(await parcel(UNWRAP_PAYLOAD));
}
async function cargoOf(parcels) {
  const { envelopedData } = await SessionEnvelopedData.encrypt(
    new CargoMessageSet(parcels).serialize(),
    gatewaySessionKey.sessionKey,
  );
  return new Cargo(
    { id: igId, internetAddress: 'gateway.example' },
    pgCert,
    Buffer.from(envelopedData.serialize()),
  ).serialize(pg.privateKey);
}

async function unwrapCargo(cargoSerialized) {
  const cargo = await Cargo.deserialize(cargoSerialized);
  const { payload } = await cargo.unwrapPayload(gatewaySessionKey.privateKey);
  for (const item of payload.messages) {
    const message = await Parcel.deserialize(item);
    await message.validate([igCert]);
  }
}

// relaynet-core 1.88.2 cannot deserialize its own SessionEnvelopedData once the plaintext
// exceeds about 4.4 MB (4,400,265 octets here: "Value is not DER-encoded"), which one cargo of
// these 1,000 parcels (5.3 MB) exceeds: the parcels are then split over the fewest cargoes it
// can open, and the figure covers all of them.
let incomingCargoes;
for (let count = 1; ; count += 1) {
  const size = Math.ceil(UNWRAP_PARCELS / count);
  incomingCargoes = [];
  for (let start = 0; start < UNWRAP_PARCELS; start += size) {
    incomingCargoes.push(await cargoOf(unwrapParcels.slice(start, start + size)));
  }
  try {
    await Promise.all(incomingCargoes.map(unwrapCargo));
    break;
  } catch (error) {
    console.error(`relaynet-core cannot unwrap ${size} parcels in one cargo: ${error.message}`);
  }
}

const unwrapSeconds = await medianSeconds(async () => {
  for (const cargo of incomingCargoes) {
    await unwrapCargo(cargo);
  }
}, false); // the probe above was the warm-up: a run takes tens of seconds

// Collection: stored parcels batched, encrypted to the private gateway's session key, and
// signed by the gateway under the CDA the private gateway issued to it.
const pgSessionKey = await SessionKeyPair.generate();
const collectPayload = await payloadForLength(COLLECT_PARCEL_LENGTH);
const stored = [];
for (let index = 0; index < COLLECT_PARCELS; index += 1) {
  stored.push({
    messageSerialized: await parcel(collectPayload),
    expiryDate: new Date(now.getTime() + 86_400_000),
  });
}
const storedBytes = stored.reduce((sum, item) => sum + item.messageSerialized.byteLength, 0);
const cda = await issueGatewayCertificate({
  issuerPrivateKey: pg.privateKey,
  subjectPublicKey: ig.publicKey,
  validityEndDate: end,
});

async function* storedParcels() {
  yield* stored;
}

let cargoBytes = 0;
const collectSeconds = await medianSeconds(async () => {
  cargoBytes = 0;
  for await (const batch of CargoMessageSet.batchMessagesSerialized(storedParcels())) {
    const { envelopedData } = await SessionEnvelopedData.encrypt(
      batch.messageSerialized,
      pgSessionKey.sessionKey,
    );
    const ttl = Math.ceil((batch.expiryDate.getTime() - Date.now()) / 1000);
    const cargo = new Cargo({ id: pgId }, cda, Buffer.from(envelopedData.serialize()), { ttl });
    cargoBytes += (await cargo.serialize(ig.privateKey)).byteLength;
  }
});

console.log(
  JSON.stringify({
    implementation: 'relaynet-core@1.88.2',
    runs: RUNS,
    unwrap_cargo_1000_parcels_median_seconds: unwrapSeconds,
    unwrap_cargo_parcels_per_second: UNWRAP_PARCELS / unwrapSeconds,
    unwrap_cargo_count: incomingCargoes.length,
    unwrap_parcel_length: unwrapParcels[0].byteLength,
    collect_cargo_8mib_median_seconds: collectSeconds,
    collect_cargo_mib_per_second: cargoBytes / MIB / collectSeconds,
    collect_cargo_mb_per_second: cargoBytes / 1e6 / collectSeconds,
    collect_stored_parcel_bytes: storedBytes,
    collect_cargo_bytes: cargoBytes,
  }),
);
