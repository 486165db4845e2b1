// Regenerates the relaynet-core (JS) vectors in this directory with @relaycorp/relaynet-core
// 1.88.2 (the version the notes were verified against). Run from this directory:
//   NODE_PATH=<dir holding node_modules/@relaycorp/relaynet-core> node generate-relaynet-core-vectors.js
const fs = require('fs');
const path = require('path');
const core = require('@relaycorp/relaynet-core');
const { SignedData } = require(
  path.join(require.resolve('@relaycorp/relaynet-core'), '..', 'lib/crypto/cms/signedData.js'),
);

async function main() {
  // 66 000 octets: pkijs splits eContent into 64 KiB segments, so two of them.
  const plaintext = Buffer.alloc(66_000);
  for (let i = 0; i < plaintext.length; i++) plaintext[i] = (i * 7) & 0xff;
  fs.writeFileSync('js-plaintext.bin', plaintext);
  const toArrayBuffer = (buffer) =>
    buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);

  const keyPair = await core.generateRSAKeyPair();
  const certificate = await core.issueGatewayCertificate({
    issuerPrivateKey: keyPair.privateKey,
    subjectPublicKey: keyPair.publicKey,
    validityEndDate: new Date(Date.now() + 86_400_000),
  });
  fs.writeFileSync('js-signer-certificate.der', Buffer.from(certificate.serialize()));
  const signed = await SignedData.sign(toArrayBuffer(plaintext), keyPair.privateKey, certificate);
  fs.writeFileSync('js-signed-data.ber', Buffer.from(signed.serialize()));

  const nonce = Buffer.from('handshake-nonce!');
  fs.writeFileSync('js-nonce.bin', nonce);
  const handshakeSigner = new core.ParcelCollectionHandshakeSigner(certificate, keyPair.privateKey);
  fs.writeFileSync(
    'js-handshake-signature.ber',
    Buffer.from(await handshakeSigner.sign(toArrayBuffer(nonce))),
  );

  const recipient = await core.generateECDHKeyPair('P-256');
  fs.writeFileSync('js-recipient-key.pk8', await core.derSerializePrivateKey(recipient.privateKey));
  const recipientKeyId = Buffer.from([9, 8, 7, 6, 5, 4, 3, 2]);
  const { envelopedData, dhKeyId } = await core.SessionEnvelopedData.encrypt(
    toArrayBuffer(plaintext.subarray(0, 5_000)),
    { keyId: recipientKeyId, publicKey: recipient.publicKey },
  );
  fs.writeFileSync('js-envelope.ber', Buffer.from(envelopedData.serialize()));
  fs.writeFileSync('js-envelope-originator-key-id.bin', Buffer.from(dhKeyId));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
