// Checker handlers for detached signatures, encapsulated SignedData and session envelopes.
import {
  EnvelopedData,
  ParcelCollectionHandshakeVerifier,
  ParcelDeliveryVerifier,
  SignedData,
} from './relaynet.mjs';
import { decryptSessionEnvelope } from './check-ramf.mjs';
import { sha256Hex, toArrayBuffer, toBuffer } from './util.mjs';

const VERIFIERS = {
  '1.3.6.1.4.1.58708.0.3.0': ParcelDeliveryVerifier,
  '1.3.6.1.4.1.58708.0.3.1': ParcelCollectionHandshakeVerifier,
};

const HASH_BY_OID = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

function signerCertificateOf(signedData) {
  const cert = signedData.signerCertificate;
  if (!cert) throw new Error('Signer certificate is not attached');
  return cert;
}

export const detachedSignatureHandler = {
  parse: (bytes) => SignedData.deserialize(bytes),
  fields: (signedData) => ({
    signer_id: () => signerCertificateOf(signedData).calculateSubjectId(),
  }),
  async validate(signedData, io, item) {
    const Verifier = VERIFIERS[item.detached?.oid];
    if (!Verifier) throw new Error(`relaynet-core has no verifier for OID ${item.detached?.oid}`);
    const trusted = await io.readCertificates(item.trusted_certificates ?? []);
    const plaintext = toArrayBuffer(await io.read(item.detached.plaintext));
    // The library verifier re-parses the serialisation itself, as a PoWeb server would.
    await new Verifier(trusted).verify(toArrayBuffer(await io.read(item.file)), plaintext);
  },
};

export const signedDataHandler = {
  parse: (bytes) => SignedData.deserialize(bytes),
  fields: (signedData) => ({
    plaintext_sha256: () => {
      if (signedData.plaintext === null) throw new Error('No encapsulated plaintext');
      return sha256Hex(signedData.plaintext);
    },
    signer_id: () => signerCertificateOf(signedData).calculateSubjectId(),
    hash: () => {
      const oid = signedData.pkijsSignedData.signerInfos[0]?.digestAlgorithm.algorithmId;
      return HASH_BY_OID[oid] ?? oid;
    },
  }),
  async validate(signedData, io, item) {
    await signedData.verify();
    if (item.trusted_certificates) {
      const signer = signerCertificateOf(signedData);
      const attached = [...signedData.certificates].filter((c) => !c.isEqual(signer));
      await signer.getCertificationPath(attached, await io.readCertificates(item.trusted_certificates));
    }
  },
};

export const sessionEnvelopeHandler = {
  parse: (bytes) => EnvelopedData.deserialize(bytes),
  fields: (envelope) => ({
    recipient_key_id: () => toBuffer(envelope.getRecipientKeyId()).toString('hex'),
    originator_key_id: async () => toBuffer((await envelope.getOriginatorKey()).keyId).toString('hex'),
    curve: async () => (await envelope.getOriginatorKey()).publicKey.algorithm.namedCurve,
  }),
  async decrypt(envelope, io, item) {
    return (await decryptSessionEnvelope(envelope, io, item)).plaintext;
  },
};
