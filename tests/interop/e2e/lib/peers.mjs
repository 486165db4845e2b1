// Peers built only with @relaycorp/relaynet-core and registered with @relaycorp/relaynet-poweb:
// private gateways, private endpoints behind them, Internet endpoints, and the parcels they send;
// cargo relayed with @relaycorp/cogrpc.
import { CogRPCClient } from '@relaycorp/cogrpc';
import {
  Cargo,
  CargoMessageSet,
  generateRSAKeyPair,
  getIdFromIdentityKey,
  issueDeliveryAuthorization,
  issueEndpointCertificate,
  MockKeyStoreSet,
  Parcel,
  ParcelCollectionHandshakeSigner,
  ParcelDeliverySigner,
  PrivateGatewayManager,
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

/**
 * Delivers `parcel` over PoWeb as `privateGateway` with the PoWebClient `client`; resolves with
 * 'accepted', or with the message of the ParcelDeliveryError the client raised (a 4xx other
 * than 422: quota and rate refusals).
 */
export async function deliverOrRefusal(client, privateGateway, parcel) {
  try {
    await client.deliverParcel(parcel, privateGateway.deliverySigner);
    return 'accepted';
  } catch (error) {
    if (error.name !== 'ParcelDeliveryError') {
      throw error;
    }
    return error.message;
  }
}

/** Prints an "ok" line per passed check, as the Rust side expects. */
export function ok(check) {
  console.log(`ok ${check}`);
}

/**
 * Registers a private gateway modelled by relaynet-core's `PrivateGateway` (key stores, channel
 * with the Internet gateway), so its CCAs, cargo and decryption are the library's own. Has the
 * fields `privateEndpointBehind` needs.
 */
export async function registerGatewayWithChannel(client, internetAddress) {
  const keyStores = new MockKeyStoreSet();
  const identity = await keyStores.privateKeyStore.generateIdentityKeyPair();
  const pg = await new PrivateGatewayManager(keyStores).get(identity.id);
  const pnra = await client.preRegisterNode(pg.identityKeyPair.publicKey);
  const registration = await client.registerNode(await pg.requestInternetGatewayRegistration(pnra));
  const certificate = registration.privateNodeCertificate;
  await pg.saveInternetGatewayChannel(
    certificate,
    registration.gatewayCertificate,
    registration.sessionKey,
  );
  const igId = await registration.gatewayCertificate.calculateSubjectId();
  const channel = await pg.getChannel(igId, internetAddress);
  return {
    pg,
    keyStores,
    channel,
    keyPair: pg.identityKeyPair,
    id: pg.id,
    certificate,
    deliverySigner: new ParcelDeliverySigner(certificate, pg.identityKeyPair.privateKey),
  };
}

/** The cargoes the CogRPC server at `port` streams for the CCA `cca`. */
export async function collectCargo(port, cca) {
  const client = await CogRPCClient.initLocalhost(Number(port));
  try {
    const cargoes = [];
    for await (const cargo of client.collectCargo(Buffer.from(cca))) {
      cargoes.push(Buffer.from(cargo));
    }
    return cargoes;
  } finally {
    client.close();
  }
}

/** Collects with a fresh CCA from `privateGateway` and returns every item of every cargo. */
export async function collectItems(port, privateGateway) {
  const items = [];
  for (const cargo of await collectCargo(port, await privateGateway.channel.generateCCA())) {
    items.push(...(await openCargo(privateGateway, cargo)));
  }
  return items;
}

/**
 * Validates cargo the way a private gateway does (against its CDA issuers), decrypts it with its
 * session keys and returns the CargoMessageSet's items as Buffers.
 */
export async function openCargo(privateGateway, cargoSerialized) {
  const { pg, keyStores } = privateGateway;
  const cargo = await Cargo.deserialize(toArrayBuffer(cargoSerialized));
  const cdaIssuers = await keyStores.certificateStore.retrieveAll(pg.id, pg.id);
  await cargo.validate(cdaIssuers.map((path) => path.leafCertificate));
  if (cargo.recipient.id !== pg.id) {
    throw new Error(`cargo for ${cargo.recipient.id}, not ${pg.id}`);
  }
  const messageSet = await pg.unwrapMessagePayload(cargo);
  if (!(messageSet instanceof CargoMessageSet)) {
    throw new Error('cargo payload is not a CargoMessageSet');
  }
  return messageSet.messages.map((item) => Buffer.from(item));
}

/** Cargo from `privateGateway` to its Internet gateway carrying `messages` (Buffers). */
export async function cargoFrom(privateGateway, messages) {
  const expiryDate = new Date(Date.now() + 24 * HOUR_MS);
  async function* stream() {
    for (const message of messages) {
      yield { message, expiryDate };
    }
  }
  const cargoes = [];
  for await (const cargo of privateGateway.channel.generateCargoes(stream())) {
    cargoes.push(Buffer.from(cargo));
  }
  return cargoes;
}

/** Delivers `cargoes` over CogRPC and returns the ids the server acknowledged, sorted. */
export async function deliverCargo(port, cargoes) {
  const client = await CogRPCClient.initLocalhost(Number(port));
  async function* deliveries() {
    for (const [index, cargo] of cargoes.entries()) {
      yield { localId: `cargo-${index}`, cargo };
    }
  }
  try {
    const acked = [];
    for await (const id of client.deliverCargo(deliveries())) {
      acked.push(id);
    }
    return acked.sort();
  } finally {
    client.close();
  }
}

/** Rejects with `what` unless `promise` settles within `ms`. */
export async function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function toArrayBuffer(buffer) {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
}
