// Checks that relaynet-core 1.88.2 accepts what our CMS code emits. Produce the inputs with
//   CMS_EXPORT_DIR=<dir> cargo test --lib cms::vector_tests::export -- --ignored
// then run
//   NODE_PATH=<dir holding node_modules/@relaycorp/relaynet-core> node check-with-relaynet-core.js <dir>
const fs = require('fs');
const path = require('path');
const core = require('@relaycorp/relaynet-core');
const libDir = path.join(require.resolve('@relaycorp/relaynet-core'), '..', 'lib');
const { SignedData } = require(path.join(libDir, 'crypto/cms/signedData.js'));
const { derDeserializeECDHPrivateKey } = require(path.join(libDir, 'crypto/keys/serialisation.js'));

const directory = process.argv[2];
const read = (name) => {
  const buffer = fs.readFileSync(path.join(directory, name));
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
};

async function main() {
  const plaintext = Buffer.from(read('plaintext.bin'));
  for (const hash of ['Sha256', 'Sha384', 'Sha512']) {
    const signed = SignedData.deserialize(read(`signed-${hash}.der`));
    await signed.verify();
    if (!Buffer.from(signed.plaintext).equals(plaintext)) throw new Error(`${hash}: plaintext`);
    console.log(`signed data ${hash}: ok`);
  }
  const detached = SignedData.deserialize(read('detached.der'));
  await detached.verify(read('detached-safe-plaintext.bin'));
  console.log('detached signature: ok');
  const key = await derDeserializeECDHPrivateKey(Buffer.from(read('recipient.pk8')), 'P-256');
  for (const name of ['default', 'js']) {
    const envelope = core.EnvelopedData.deserialize(read(`envelope-${name}.der`));
    const decrypted = Buffer.from(await envelope.decrypt(key));
    if (!decrypted.equals(plaintext.subarray(0, 5000))) throw new Error(`${name}: plaintext`);
    console.log(`envelope ${name}: ok, originator key id ${Buffer.from((await envelope.getOriginatorKey()).keyId).toString('hex')}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
