// Times the protocol-core operations of the Rust criterion benchmark in relaynet-core, so that
// both implementations are measured side by side in one run (scripts/bench.sh).
// Prints one JSON object: operations per second for each operation.
import { webcrypto } from 'node:crypto';
import {
  generateRSAKeyPair,
  issueDeliveryAuthorization,
  issueEndpointCertificate,
  issueGatewayCertificate,
  Parcel,
  SessionEnvelopedData,
  SessionKeyPair,
} from '@relaycorp/relaynet-core';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

/** Runs `operation` repeatedly for about SECONDS seconds and returns operations per second. */
async function opsPerSecond(operation) {
  await operation(); // warm-up
  const deadline = performance.now() + SECONDS * 1000;
  let count = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    await operation();
    count += 1;
  }
  return count / ((performance.now() - start) / 1000);
}

const now = new Date();
const end = new Date(now.getTime() + 24 * 3600 * 1000);
const ig = await generateRSAKeyPair();
const pg = await generateRSAKeyPair();
const pe = await generateRSAKeyPair();
const peer = await generateRSAKeyPair();
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
const peCert = await issueEndpointCertificate({
  issuerCertificate: pgCert,
  issuerPrivateKey: pg.privateKey,
  subjectPublicKey: pe.publicKey,
  validityEndDate: end,
});
const pda = await issueDeliveryAuthorization({
  issuerCertificate: peCert,
  issuerPrivateKey: pe.privateKey,
  subjectPublicKey: peer.publicKey,
  validityEndDate: end,
});

const payload = Buffer.from(webcrypto.getRandomValues(new Uint8Array(1024)));
const parcel = new Parcel({ id: await peCert.calculateSubjectId() }, pda, payload, {
  senderCaCertificateChain: [peCert, pgCert],
});
const parcelSerialized = await parcel.serialize(peer.privateKey);

const parseValidate = await opsPerSecond(async () => {
  const parsed = await Parcel.deserialize(parcelSerialized);
  await parsed.validate([igCert]);
});
const sign = await opsPerSecond(() => parcel.serialize(peer.privateKey));

const recipientKeyPair = await SessionKeyPair.generate();
const mebibyte = Buffer.alloc(1024 * 1024, 7);
const { envelopedData } = await SessionEnvelopedData.encrypt(mebibyte, recipientKeyPair.sessionKey);
const envelope = envelopedData.serialize();
const encrypt = await opsPerSecond(() =>
  SessionEnvelopedData.encrypt(mebibyte, recipientKeyPair.sessionKey),
);
const decrypt = await opsPerSecond(async () => {
  const parsed = SessionEnvelopedData.deserialize(envelope);
  await parsed.decrypt(recipientKeyPair.privateKey);
});

console.log(
  JSON.stringify({
    implementation: 'relaynet-core@1.88.2',
    parcel_parse_validate_per_second: parseValidate,
    parcel_sign_per_second: sign,
    session_encrypt_1mib_per_second: encrypt,
    session_decrypt_1mib_per_second: decrypt,
    parcel_length: parcelSerialized.byteLength,
  }),
);
