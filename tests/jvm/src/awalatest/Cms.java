package awalatest;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Hashtable;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.OriginatorPublicKey;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.selector.X509CertificateHolderSelector;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSEnvelopedData;
import org.bouncycastle.cms.CMSEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.KeyAgreeRecipientId;
import org.bouncycastle.cms.KeyAgreeRecipientInformation;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.SimpleAttributeTableGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyAgreeEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyAgreeRecipientInfoGenerator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.util.Selector;

/** CMS SignedData and session EnvelopedData with the exact BC calls and settings awala-jvm uses. */
final class Cms {
    /** Unprotected attribute carrying the originator's session key id (an OCTET STRING). */
    static final ASN1ObjectIdentifier ORIGINATOR_KEY_ID = new ASN1ObjectIdentifier("1.3.6.1.4.1.58708.0.1.0");

    private Cms() {}

    // ---- SignedData ----

    /**
     * Sign like awala-jvm's SignedData.sign: CMSSignedDataGenerator with BC's default signed
     * attributes, RSA-PSS via "SHAxWITHRSAANDMGF1", signer identified by issuer+serial. The
     * result is BC's own (BER, indefinite-length) encoding, never re-encoded.
     */
    static byte[] sign(
            byte[] plaintext,
            PrivateKey key,
            X509CertificateHolder signerCert,
            Collection<X509CertificateHolder> certificates,
            String hash,
            boolean encapsulate)
            throws Exception {
        String algorithm = switch (hash) {
            case "sha256" -> "SHA256WITHRSAANDMGF1";
            case "sha384" -> "SHA384WITHRSAANDMGF1";
            case "sha512" -> "SHA512WITHRSAANDMGF1";
            default -> throw new IllegalArgumentException(hash);
        };
        CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
        generator.addSignerInfoGenerator(
                new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build())
                        .build(new JcaContentSignerBuilder(algorithm).setProvider(Util.BC).build(key), signerCert));
        generator.addCertificates(new JcaCertStore(certificates));
        CMSSignedData signedData = generator.generate(new CMSProcessableByteArray(plaintext), encapsulate);
        if (!encapsulate) {
            // awala-jvm re-wraps the structure so BC forgets the detached plaintext; same bytes.
            signedData = new CMSSignedData(signedData.toASN1Structure());
        }
        return signedData.getEncoded();
    }

    /** What a verified SignedData yields. */
    record Verified(byte[] content, X509CertificateHolder signer, List<X509CertificateHolder> others, String hash) {}

    /**
     * Verify like awala-jvm's SignedData.deserialize + verify: exactly one SignerInfo, the signer
     * certificate embedded (matched by issuer+serial), signature checked with
     * JcaSimpleSignerInfoVerifierBuilder. Pass {@code detached} for detached signatures.
     */
    @SuppressWarnings("unchecked")
    /** Structural problems raise Malformed; a signature that does not verify raises Invalid. */
    static Verified verify(byte[] serialized, byte[] detached) throws Checker.Malformed, Checker.Invalid {
        try {
            CMSSignedData signedData = new CMSSignedData(serialized);
            byte[] content;
            if (detached != null) {
                if (signedData.getSignedContent() != null && signedData.getSignedContent().getContent() != null) {
                    throw new Checker.Malformed("detached signature encapsulates content");
                }
                signedData = new CMSSignedData(new CMSProcessableByteArray(detached), signedData.toASN1Structure());
                content = detached;
            } else {
                if (signedData.getSignedContent() == null) {
                    throw new Checker.Malformed("no encapsulated content");
                }
                content = (byte[]) signedData.getSignedContent().getContent();
            }
            Collection<SignerInformation> signers = signedData.getSignerInfos().getSigners();
            if (signers.size() != 1) {
                throw new Checker.Malformed("expected exactly one SignerInfo, got " + signers.size());
            }
            SignerInformation signer = signers.iterator().next();
            Selector<X509CertificateHolder> selector = (Selector<X509CertificateHolder>) (Selector<?>)
                    new X509CertificateHolderSelector(signer.getSID().getIssuer(), signer.getSID().getSerialNumber());
            Collection<X509CertificateHolder> matches = signedData.getCertificates().getMatches(selector);
            if (matches.isEmpty()) {
                throw new Checker.Malformed("signer certificate not embedded");
            }
            X509CertificateHolder signerCert = matches.iterator().next();
            boolean good;
            try {
                good = signer.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider(Util.BC).build(signerCert));
            } catch (Exception e) {
                throw new Checker.Invalid("signature does not verify: " + e.getMessage());
            }
            if (!good) {
                throw new Checker.Invalid("signature does not verify");
            }
            List<X509CertificateHolder> others = new ArrayList<>();
            for (X509CertificateHolder cert : signedData.getCertificates().getMatches(null)) {
                if (!cert.equals(signerCert)) {
                    others.add(cert);
                }
            }
            return new Verified(content, signerCert, others, hashName(signer.getDigestAlgOID()));
        } catch (Checker.Malformed | Checker.Invalid e) {
            throw e;
        } catch (Exception e) {
            throw new Checker.Malformed("SignedData: " + e);
        }
    }

    static String hashName(String oid) {
        if (oid.equals(NISTObjectIdentifiers.id_sha256.getId())) return "sha256";
        if (oid.equals(NISTObjectIdentifiers.id_sha384.getId())) return "sha384";
        if (oid.equals(NISTObjectIdentifiers.id_sha512.getId())) return "sha512";
        return oid;
    }

    // ---- Session EnvelopedData ----

    /**
     * Encrypt like awala-jvm's SessionEnvelopedData.encrypt with its defaults:
     * dhSinglePass-stdDH-sha256kdf-scheme, AES-128 key wrap, 64-byte UKM, rKeyId recipient,
     * AES-128-CBC content, originator key id in the unprotected attribute.
     */
    static byte[] encrypt(
            byte[] plaintext,
            byte[] recipientKeyId,
            PublicKey recipientKey,
            java.security.KeyPair originator,
            byte[] originatorKeyId)
            throws Exception {
        JceKeyAgreeRecipientInfoGenerator recipientInfo = new JceKeyAgreeRecipientInfoGenerator(
                        CMSAlgorithm.ECDH_SHA256KDF,
                        originator.getPrivate(),
                        originator.getPublic(),
                        CMSAlgorithm.AES128_WRAP)
                .setUserKeyingMaterial(Util.randomBytes(64));
        recipientInfo.setProvider(Util.BC);
        recipientInfo.addRecipient(recipientKeyId, recipientKey);

        Hashtable<ASN1ObjectIdentifier, Attribute> attributes = new Hashtable<>();
        attributes.put(ORIGINATOR_KEY_ID,
                new Attribute(ORIGINATOR_KEY_ID, new DERSet(new DEROctetString(originatorKeyId))));

        CMSEnvelopedDataGenerator generator = new CMSEnvelopedDataGenerator();
        generator.addRecipientInfoGenerator(recipientInfo);
        generator.setUnprotectedAttributeGenerator(new SimpleAttributeTableGenerator(new AttributeTable(attributes)));
        CMSEnvelopedData envelopedData = generator.generate(
                new CMSProcessableByteArray(plaintext),
                new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES128_CBC).setProvider(Util.BC).build());
        return envelopedData.getEncoded();
    }

    /** What a parsed session envelope exposes. */
    record Envelope(CMSEnvelopedData data, String recipientKeyId, String originatorKeyId, String curve) {}

    /** Parse and check the structure awala-jvm requires (one KARI, originator key id attribute). */
    static Envelope parseEnvelope(byte[] serialized) throws Checker.Malformed {
        try {
            CMSEnvelopedData data = new CMSEnvelopedData(serialized);
            Collection<RecipientInformation> recipients = data.getRecipientInfos().getRecipients();
            if (recipients.size() != 1) {
                throw new Checker.Malformed("expected exactly one RecipientInfo, got " + recipients.size());
            }
            RecipientInformation recipient = recipients.iterator().next();
            if (!(recipient instanceof KeyAgreeRecipientInformation kari)) {
                throw new Checker.Malformed("RecipientInfo is not KeyAgreeRecipientInfo");
            }
            byte[] rKeyId = ((KeyAgreeRecipientId) kari.getRID()).getSubjectKeyIdentifier();
            if (rKeyId == null) {
                throw new Checker.Malformed("recipient is not identified by rKeyId");
            }
            AttributeTable unprotected = data.getUnprotectedAttributes();
            Attribute attribute = unprotected == null ? null : unprotected.get(ORIGINATOR_KEY_ID);
            if (attribute == null || attribute.getAttrValues().size() != 1) {
                throw new Checker.Malformed("originator key id attribute missing or multi-valued");
            }
            ASN1Encodable value = attribute.getAttrValues().getObjectAt(0);
            // awala-jvm requires exactly a DEROctetString here (a constructed BER string is refused).
            if (!(value instanceof DEROctetString octets)) {
                throw new Checker.Malformed("originator key id is not an OCTET STRING");
            }
            OriginatorPublicKey originatorKey = kari.getOriginator().getOriginatorKey();
            if (originatorKey == null) {
                throw new Checker.Malformed("originator is not an OriginatorPublicKey");
            }
            // awala-jvm's getOriginatorKey() reads this structure as an EC SubjectPublicKeyInfo.
            java.security.KeyFactory.getInstance("EC", Util.BC)
                    .generatePublic(new java.security.spec.X509EncodedKeySpec(originatorKey.getEncoded()));
            ASN1Encodable curveOid = originatorKey.getAlgorithm().getParameters();
            return new Envelope(data, Util.hex(rKeyId), Util.hex(octets.getOctets()), curveName(curveOid));
        } catch (Checker.Malformed e) {
            throw e;
        } catch (Exception e) {
            throw new Checker.Malformed("EnvelopedData: " + e);
        }
    }

    static String curveName(ASN1Encodable oid) {
        if (X9ObjectIdentifiers.prime256v1.equals(oid)) return "P-256";
        if (SECObjectIdentifiers.secp384r1.equals(oid)) return "P-384";
        if (SECObjectIdentifiers.secp521r1.equals(oid)) return "P-521";
        return String.valueOf(oid);
    }

    /** Decrypt like awala-jvm's EnvelopedData.decrypt (JceKeyAgreeEnvelopedRecipient, BC provider). */
    static byte[] decrypt(Envelope envelope, PrivateKey key) throws Checker.Invalid {
        try {
            RecipientInformation recipient = envelope.data().getRecipientInfos().getRecipients().iterator().next();
            return recipient.getContent(new JceKeyAgreeEnvelopedRecipient(key).setProvider(Util.BC));
        } catch (Exception e) {
            throw new Checker.Invalid("cannot decrypt: " + e);
        }
    }
}
