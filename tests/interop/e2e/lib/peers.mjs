// Peers built only with @relaycorp/relaynet-core and registered with @relaycorp/relaynet-poweb:
// private gateways, private endpoints behind them, Internet endpoints, and the parcels they send.
import {
  generateRSAKeyPair,
  getIdFromIdentityKey,
  issueDeliveryAuthorization,
  issueEndpointCertificate,
  Parcel,
  ParcelCollectionHandshakeSigner,
  ParcelDeliverySigner,
  PrivateNodeRegistrationRequest,
} from '@relaycorp/relaynet-core';

const HOUR_MS = 3_600_000;

/** Registers a new private gateway with the gateway behind `client` (a PoWebClient). */
export async function registerPrivateGateway(client) {
  const keyPair = await generateRSAKeyPair();
  const pnra = await client.preRegisterNode(keyPair.publicKey);
  const pnrr = new PrivateNodeRegistrationRequest(keyPair.publicKey, pnra);
  const registration = await client.registerNode(await pnrr.serialize(keyPair.privateKey));
  return {
    keyPair,
    id: await getIdFromIdentityKey(keyPair.publicKey),
    certificate: registration.privateNodeCertificate,
    internetGatewayCertificate: registration.gatewayCertificate,
    sessionKey: registration.sessionKey,
    deliverySigner: new ParcelDeliverySigner(registration.privateNodeCertificate, keyPair.privateKey),
    collectionSigner: new ParcelCollectionHandshakeSigner(
      registration.privateNodeCertificate,
      keyPair.privateKey,
    ),
  };
}

/** A private endpoint whose certificate `privateGateway` issued. */
export async function privateEndpointBehind(privateGateway) {
  const keyPair = await generateRSAKeyPair();
  const certificate = await issueEndpointCertificate({
    issuerCertificate: privateGateway.certificate,
    issuerPrivateKey: privateGateway.keyPair.privateKey,
    subjectPublicKey: keyPair.publicKey,
    validityStartDate: new Date(Date.now() - HOUR_MS),
    validityEndDate: privateGateway.certificate.expiryDate,
  });
  return {
    keyPair,
    id: await getIdFromIdentityKey(keyPair.publicKey),
    certificate,
    chain: [certificate, privateGateway.certificate],
  };
}

/** An endpoint with a self-issued certificate (an Internet endpoint, or an impostor). */
export async function selfIssuedEndpoint() {
  const keyPair = await generateRSAKeyPair();
  const certificate = await issueEndpointCertificate({
    issuerPrivateKey: keyPair.privateKey,
    subjectPublicKey: keyPair.publicKey,
    validityStartDate: new Date(Date.now() - HOUR_MS),
    validityEndDate: new Date(Date.now() + 24 * HOUR_MS),
  });
  return { keyPair, id: await getIdFromIdentityKey(keyPair.publicKey), certificate };
}

/**
 * A parcel from `sender` (an endpoint with a key pair) to the private endpoint `recipient`, with
 * the PDA `recipient` issued to `sender` and the recipient's chain attached, as Internet
 * endpoints send them.
 */
export async function parcelToPrivateEndpoint(sender, recipient, payload, options = {}) {
  const pda = await issueDeliveryAuthorization({
    issuerCertificate: recipient.certificate,
    issuerPrivateKey: recipient.keyPair.privateKey,
    subjectPublicKey: sender.keyPair.publicKey,
    validityStartDate: new Date(Date.now() - HOUR_MS),
    validityEndDate: recipient.certificate.expiryDate,
  });
  const parcel = new Parcel({ id: recipient.id }, pda, Buffer.from(payload), {
    senderCaCertificateChain: recipient.chain,
    ...options,
  });
  return Buffer.from(await parcel.serialize(sender.keyPair.privateKey));
}

/** A parcel from the private endpoint `sender` to an Internet endpoint at `internetAddress`. */
export async function parcelToInternet(sender, recipientId, internetAddress, payload, options = {}) {
  const parcel = new Parcel(
    { id: recipientId, internetAddress },
    sender.certificate,
    Buffer.from(payload),
    { senderCaCertificateChain: sender.chain ?? [], ...options },
  );
  return Buffer.from(await parcel.serialize(sender.keyPair.privateKey));
}

/** Prints an "ok" line per passed check, as the Rust side expects. */
export function ok(check) {
  console.log(`ok ${check}`);
}
