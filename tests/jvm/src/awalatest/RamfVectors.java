package awalatest;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERVisibleString;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * Parcels, cargo and CCAs as an Android gateway's awala-jvm serialises them, with their
 * payloads (ServiceMessage, CargoMessageSet with a PCA, CCR with the Android CDA), plus invalid
 * and malformed variants.
 */
final class RamfVectors {
    private final Generator g;

    RamfVectors(Generator generator) {
        this.g = generator;
    }

    /** Writes the parcel items; returns the serialization of the main valid parcel. */
    byte[] parcelItems() throws Exception {
        byte[] serviceMessage = Generator.serviceMessage("application/vnd.awala.test", "Hello from Bouncy Castle".getBytes(StandardCharsets.UTF_8));
        g.write("plain/service-message.der", serviceMessage);
        JsonObject sm = g.item("service-message", "service_message", "plain/service-message.der", "valid", null);
        JsonObject smFields = new JsonObject();
        smFields.addProperty("content_type", "application/vnd.awala.test");
        smFields.addProperty("content_sha256", Util.sha256Hex("Hello from Bouncy Castle".getBytes(StandardCharsets.UTF_8)));
        sm.add("fields", smFields);

        String peId = Pki.subjectId(g.peCert);
        List<X509CertificateHolder> pdaChain = List.of(g.peCert, g.pgCert);
        Instant recent = g.now.minus(Duration.ofMinutes(10));

        byte[] payload = g.envelope(serviceMessage, g.peSession);
        byte[] valid = ramf("parcel-valid-sha256", "parcel", new Ramf.Fields(peId, null, "parcel-1", recent, 86400, payload),
                g.peerKey, g.pdaCert, pdaChain, "sha256", "valid", null, List.of("certs/ig.der"), "pe-session", "plain/service-message.der");
        ramf("parcel-valid-sha512", "parcel", new Ramf.Fields(peId, null, "parcel-2", recent, 86400, payload),
                g.peerKey, g.pdaCert, pdaChain, "sha512", "valid", null, List.of("certs/ig.der"), null, null);
        // Internet-bound parcel from a private endpoint: no trust anchors, only timing + sender cert.
        ramf("parcel-internet-bound", "parcel", new Ramf.Fields(Pki.nodeId(g.peerKey.getPublic()), "endpoint.example.com",
                        java.util.UUID.randomUUID().toString(), recent, 3600, "opaque".getBytes(StandardCharsets.US_ASCII)),
                g.peKey, g.peCert, List.of(g.pgCert), "sha256", "valid", null, null, null, null);
        ramf("parcel-expired", "parcel", new Ramf.Fields(peId, null, "parcel-expired", g.now.minus(Duration.ofDays(2)), 3600, payload),
                g.peerKey, g.pdaCert, pdaChain, "sha256", "invalid", "expired", List.of("certs/ig.der"), null, null);
        ramf("parcel-future", "parcel", new Ramf.Fields(peId, null, "parcel-future", g.now.plus(Duration.ofHours(1)), 3600, payload),
                g.peerKey, g.pdaCert, pdaChain, "sha256", "invalid", "creation date in the future", List.of("certs/ig.der"), null, null);
        ramf("parcel-wrong-recipient", "parcel", new Ramf.Fields(Pki.subjectId(g.pgCert), null, "parcel-wrong-recipient", recent, 3600, payload),
                g.peerKey, g.pdaCert, pdaChain, "sha256", "invalid", "path[1] is the private endpoint, not the recipient",
                List.of("certs/ig.der"), null, null);
        ramf("parcel-untrusted", "parcel", new Ramf.Fields(peId, null, "parcel-untrusted", recent, 3600, payload),
                g.peerKey, g.pdaCert, pdaChain, "sha256", "invalid", "no path to the trusted certificate",
                List.of("certs/stranger.der"), null, null);

        // Malformed: a flipped payload octet breaks the messageDigest (libraries reject at deserialisation).
        byte[] tampered = valid.clone();
        byte[] fieldSet = Ramf.fieldSet(new Ramf.Fields(peId, null, "parcel-1", recent, 86400, payload));
        int at = indexOf(tampered, fieldSet);
        tampered[at + fieldSet.length - 1] ^= 0x01;
        g.rawItem("parcel-tampered", "parcel", tampered, "malformed", "signature does not verify (content altered)");
        byte[] wrongType = valid.clone();
        wrongType[5] = Ramf.CARGO;
        g.rawItem("parcel-wrong-type-octet", "parcel", wrongType, "malformed", "format signature is that of cargo");
        g.rawItem("parcel-truncated", "parcel", Arrays.copyOf(valid, valid.length / 2), "malformed", "truncated");
        return valid;
    }

    void cargoAndCcaItems(byte[] parcel) throws Exception {
        String igId = Pki.subjectId(g.igCert);
        String pgId = Pki.subjectId(g.pgCert);
        // PCA and CargoMessageSet exactly as awala-jvm encodes them.
        byte[] pca = Util.concat(new byte[] {'A', 'w', 'a', 'l', 'a', 0x51, 0x00}, PlainChecks.implicitSequence(
                new DERVisibleString(Pki.nodeId(g.peerKey.getPublic())), new DERVisibleString(Pki.subjectId(g.peCert)),
                new DERVisibleString("parcel-0")));
        g.write("plain/pca.der", pca);
        JsonObject pcaFields = new JsonObject();
        pcaFields.addProperty("sender_endpoint_id", Pki.nodeId(g.peerKey.getPublic()));
        pcaFields.addProperty("recipient_endpoint_id", Pki.subjectId(g.peCert));
        pcaFields.addProperty("parcel_id", "parcel-0");
        g.item("pca", "pca", "plain/pca.der", "valid", null).add("fields", pcaFields);

        ASN1EncodableVector messages = new ASN1EncodableVector();
        messages.add(new DEROctetString(parcel));
        messages.add(new DEROctetString(pca));
        byte[] messageSet = new DERSequence(messages).getEncoded(ASN1Encoding.DER);
        g.write("plain/cargo-message-set.der", messageSet);
        JsonObject cmsFields = new JsonObject();
        cmsFields.add("messages_sha256", Manifest.strings(List.of(Util.sha256Hex(parcel), Util.sha256Hex(pca))));
        g.item("cargo-message-set", "cargo_message_set", "plain/cargo-message-set.der", "valid", null).add("fields", cmsFields);

        // Android cargo: creation g.now - 90 min, to {IG id, IG address}, sender = PG cert, no chain.
        Instant creation = g.now.minus(Duration.ofMinutes(90));
        ramf("cargo-pg-to-ig", "cargo", new Ramf.Fields(igId, Generator.IG_ADDRESS, java.util.UUID.randomUUID().toString(), creation, 86400,
                        g.envelope(messageSet, g.igSession)),
                g.pgKey, g.pgCert, List.of(), "sha256", "valid", null, List.of("certs/ig.der"), "ig-session", "plain/cargo-message-set.der");
        // What an IG sends back (for parsers on both sides): sender = the Android CDA, signed with the
        // IG key, no address, back-dated 3 h; the PG validates it against its IG-issued cert.
        ramf("cargo-ig-to-pg", "cargo", new Ramf.Fields(pgId, null, java.util.UUID.randomUUID().toString(), g.now.minus(Duration.ofHours(3)),
                        86400, g.envelope(messageSet, g.pgSession)),
                g.igKey, g.cdaCert, List.of(), "sha256", "valid", null, List.of("certs/pg.der"), "pg-session", "plain/cargo-message-set.der");

        // CCR carrying the Android CDA, then the CCA (TTL 14 d) as Android builds it.
        byte[] ccr = PlainChecks.implicitSequence(new DEROctetString(g.cdaCert.getEncoded()));
        g.write("plain/ccr.der", ccr);
        JsonObject ccrFields = new JsonObject();
        ccrFields.addProperty("cda_sha256", Util.sha256Hex(g.cdaCert.getEncoded()));
        g.item("ccr", "ccr", "plain/ccr.der", "valid", null).add("fields", ccrFields);
        ramf("cca-valid", "cca", new Ramf.Fields(igId, Generator.IG_ADDRESS, java.util.UUID.randomUUID().toString(), creation, 14 * 86400,
                        g.envelope(ccr, g.igSession)),
                g.pgKey, g.pgCert, List.of(), "sha256", "valid", null, List.of("certs/ig.der"), "ig-session", "plain/ccr.der");
        ramf("cca-untrusted", "cca", new Ramf.Fields(igId, Generator.IG_ADDRESS, java.util.UUID.randomUUID().toString(), creation, 14 * 86400,
                        g.envelope(ccr, g.igSession)),
                g.pgKey, g.pgCert, List.of(), "sha256", "invalid", "no path to the trusted certificate",
                List.of("certs/stranger.der"), null, null);
    }

    /** Build, sign and record one RAMF item. */
    private byte[] ramf(String name, String kind, Ramf.Fields f, KeyPair signerKey, X509CertificateHolder sender,
            List<X509CertificateHolder> cas, String hash, String expect, String reason, List<String> trusted,
            String decryptKey, String decryptPlaintext) throws Exception {
        byte[] bytes = Ramf.serialize(Ramf.type(kind), f, signerKey.getPrivate(), sender, cas, hash);
        JsonObject item = g.rawItem(name, kind, bytes, expect, reason);
        JsonObject fields = new JsonObject();
        fields.addProperty("id", f.id());
        fields.addProperty("recipient_id", f.recipientId());
        fields.add("recipient_internet_address", Manifest.stringOrNull(f.internetAddress()));
        fields.addProperty("creation_date", Util.iso(f.creation()));
        fields.addProperty("ttl", f.ttl());
        fields.addProperty("payload_sha256", Util.sha256Hex(f.payload()));
        fields.addProperty("sender_id", Pki.subjectId(sender));
        fields.addProperty("sender_ca_count", cas.size());
        item.add("fields", fields);
        if (trusted != null) {
            item.add("trusted_certificates", Manifest.strings(trusted));
        }
        if (decryptKey != null) {
            item.add("decrypt", g.decrypt(decryptKey, decryptPlaintext));
        }
        return bytes;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("field set not found in serialization");
    }
}
