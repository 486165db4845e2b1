package awalatest;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Boolean;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBMPString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Awala PKI the way awala-jvm builds it with Bouncy Castle: RSA identity keys, RSA-PSS SHA-256
 * certificates, BMPString CN = node id, SHA-256 key identifiers, and BC PKIX path building.
 */
final class Pki {
    private Pki() {}

    static KeyPair rsaKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA", Util.BC);
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    /** Session keys: awala-jvm names curves "P-256" etc. and lets BC generate them. */
    static KeyPair ecKeyPair(String curve) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", Util.BC);
        generator.initialize(new ECGenParameterSpec(curve));
        return generator.generateKeyPair();
    }

    /** Node id: "0" + hex SHA-256 of the rsaEncryption SPKI (JCA getEncoded gives that form). */
    static String nodeId(PublicKey key) {
        return "0" + Util.sha256Hex(key.getEncoded());
    }

    static String nodeId(SubjectPublicKeyInfo spki) {
        try {
            return "0" + Util.sha256Hex(spki.getEncoded());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Issue a certificate with awala-jvm's profile. Extensions go in BC's order (basicConstraints,
     * SKI, AKI); the AKI is copied from the issuer's SKI (or is the own SKI when self-issued).
     * basicConstraints is written as awala-jvm does: cA BOOLEAN always present, pathLen always
     * present, both inside a DERSequence built by hand.
     */
    static X509CertificateHolder issue(
            PublicKey subjectKey,
            PrivateKey issuerKey,
            Instant start,
            Instant end,
            X509CertificateHolder issuerCert,
            boolean isCa,
            int pathLen)
            throws Exception {
        // awala-jvm: BigInteger(64, random), i.e. 1 to 9 content octets once DER-encoded.
        return issue(subjectKey, issuerKey, start, end, issuerCert, isCa, pathLen, new BigInteger(64, Util.RANDOM));
    }

    static X509CertificateHolder issue(
            PublicKey subjectKey,
            PrivateKey issuerKey,
            Instant start,
            Instant end,
            X509CertificateHolder issuerCert,
            boolean isCa,
            int pathLen,
            BigInteger serial)
            throws Exception {
        Date notAfter = Date.from(end);
        if (issuerCert != null && issuerCert.getNotAfter().before(notAfter)) {
            notAfter = issuerCert.getNotAfter(); // awala-jvm clamps to the issuer's expiry
        }
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, new DERBMPString(nodeId(subjectKey)))
                .build();
        X500Name issuer = issuerCert == null ? subject : issuerCert.getSubject();
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(subjectKey.getEncoded());
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(
                issuer, serial, Date.from(start), notAfter, subject, spki);

        ASN1EncodableVector basicConstraints = new ASN1EncodableVector(2);
        basicConstraints.add(ASN1Boolean.getInstance(isCa));
        basicConstraints.add(new ASN1Integer(pathLen));
        builder.addExtension(Extension.basicConstraints, true, new DERSequence(basicConstraints));

        SubjectKeyIdentifier ski = new SubjectKeyIdentifier(Util.sha256(spki.getEncoded()));
        builder.addExtension(Extension.subjectKeyIdentifier, false, ski);
        SubjectKeyIdentifier issuerSki =
                issuerCert == null ? ski : SubjectKeyIdentifier.fromExtensions(issuerCert.getExtensions());
        builder.addExtension(
                Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(issuerSki.getKeyIdentifier()));

        return builder.build(new JcaContentSignerBuilder("SHA256WITHRSAANDMGF1")
                .setProvider(Util.BC)
                .build(issuerKey));
    }

    static X509Certificate toJca(X509CertificateHolder holder) throws GeneralSecurityException {
        return new JcaX509CertificateConverter().setProvider(Util.BC).getCertificate(holder);
    }

    /**
     * Build a path like awala-jvm's Certificate.getCertificationPath: BC PKIX builder, revocation
     * disabled, validity checked at {@code at}. Returns [leaf, intermediates..., trust anchor]
     * (the anchor is omitted when the leaf itself is the anchor, as awala-jvm does).
     */
    static List<X509Certificate> buildPath(
            X509CertificateHolder leaf,
            Collection<X509CertificateHolder> intermediates,
            Collection<X509CertificateHolder> trusted,
            Instant at)
            throws Exception {
        X509Certificate leafJca = toJca(leaf);
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509CertificateHolder cert : trusted) {
            anchors.add(new TrustAnchor(toJca(cert), null));
        }
        List<X509Certificate> intermediateJca = new ArrayList<>();
        for (X509CertificateHolder cert : intermediates) {
            intermediateJca.add(toJca(cert));
        }
        X509CertSelector target = new X509CertSelector();
        target.setCertificate(leafJca);
        PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, target);
        params.setRevocationEnabled(false);
        params.setDate(Date.from(at));
        params.addCertStore(CertStore.getInstance(
                "Collection", new CollectionCertStoreParameters(intermediateJca), Util.BC));
        PKIXCertPathBuilderResult result =
                (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX", Util.BC).build(params);

        List<X509Certificate> path = new ArrayList<>();
        for (java.security.cert.Certificate cert : result.getCertPath().getCertificates()) {
            path.add((X509Certificate) cert);
        }
        if (path.isEmpty()) {
            path.add(leafJca);
        }
        X509Certificate anchor = result.getTrustAnchor().getTrustedCert();
        if (!anchor.equals(leafJca)) {
            path.add(anchor);
        }
        return path;
    }

    static String subjectId(X509Certificate cert) {
        return nodeId(cert.getPublicKey());
    }

    static String subjectId(X509CertificateHolder cert) {
        return nodeId(cert.getSubjectPublicKeyInfo());
    }

    /** awala-jvm's Certificate.validate(): notBefore <= now <= notAfter, no slack. */
    static void checkValidity(X509CertificateHolder cert, Instant at) throws Checker.Invalid {
        if (at.isBefore(cert.getNotBefore().toInstant())) {
            throw new Checker.Invalid("certificate not yet valid at " + at);
        }
        if (cert.getNotAfter().toInstant().isBefore(at)) {
            throw new Checker.Invalid("certificate expired at " + at);
        }
    }
}
