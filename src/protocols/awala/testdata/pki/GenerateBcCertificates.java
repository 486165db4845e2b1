// Regenerates the Bouncy Castle certificate fixtures used by `pki` tests, issued the way
// awala-jvm does (BC 1.72): CN as BMPString, SHA256WITHRSAANDMGF1, extensions in the order
// basicConstraints (critical), SKI, AKI (copied from the issuer's SKI), and non-CA
// basicConstraints encoded as SEQUENCE { INTEGER 0 }.
//
// Usage (Debian: libbcprov-java libbcpkix-java libbcutil-java):
//   java -cp /usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar \
//        GenerateBcCertificates.java <output directory>
// Chain: IG self-issued (CA, 2) -> PG (CA, 1) -> endpoint (CA, 0) -> PDA (non-CA, 0), valid
// from 2026-01-01 to 2036-01-01 (GeneralizedTime after 2049 is not exercised here).

import java.io.FileOutputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Date;
import java.util.HexFormat;

import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Boolean;
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
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

public class GenerateBcCertificates {
    static final Date START = new Date(1767225600000L); // 2026-01-01T00:00:00Z
    static final Date END = new Date(2082758400000L); // 2036-01-01T00:00:00Z
    static final BouncyCastleProvider BC = new BouncyCastleProvider();

    public static void main(String[] args) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair ig = generator.generateKeyPair();
        KeyPair pg = generator.generateKeyPair();
        KeyPair pe = generator.generateKeyPair();
        KeyPair peer = generator.generateKeyPair();
        X509CertificateHolder igCert = issue(ig, ig, null, true, 2);
        X509CertificateHolder pgCert = issue(pg, ig, igCert, true, 1);
        X509CertificateHolder peCert = issue(pe, pg, pgCert, true, 0);
        X509CertificateHolder pda = issue(peer, pe, peCert, false, 0);
        write(args[0] + "/bc-internet-gateway.der", igCert);
        write(args[0] + "/bc-private-gateway.der", pgCert);
        write(args[0] + "/bc-endpoint.der", peCert);
        write(args[0] + "/bc-pda.der", pda);
    }

    static X509CertificateHolder issue(
            KeyPair subject, KeyPair issuer, X509CertificateHolder issuerCert, boolean ca, int pathLen)
            throws Exception {
        byte[] subjectSpki = subject.getPublic().getEncoded();
        byte[] subjectDigest = MessageDigest.getInstance("SHA-256").digest(subjectSpki);
        X500Name subjectName = name("0" + HexFormat.of().formatHex(subjectDigest));
        X500Name issuerName = issuerCert == null ? subjectName : issuerCert.getSubject();
        BigInteger serial = new BigInteger(64, new SecureRandom());
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(
                issuerName, serial, START, END, subjectName,
                SubjectPublicKeyInfo.getInstance(subjectSpki));
        ASN1EncodableVector constraints = new ASN1EncodableVector();
        if (ca) {
            constraints.add(ASN1Boolean.TRUE);
        }
        constraints.add(new ASN1Integer(pathLen));
        builder.addExtension(Extension.basicConstraints, true, new DERSequence(constraints));
        builder.addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(subjectDigest));
        byte[] authorityKeyId = issuerCert == null
                ? subjectDigest
                : SubjectKeyIdentifier.fromExtensions(issuerCert.getExtensions()).getKeyIdentifier();
        builder.addExtension(
                Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(authorityKeyId));
        return builder.build(
                new JcaContentSignerBuilder("SHA256WITHRSAANDMGF1").setProvider(BC).build(issuer.getPrivate()));
    }

    static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, new DERBMPString(commonName)).build();
    }

    static void write(String path, X509CertificateHolder certificate) throws Exception {
        try (FileOutputStream output = new FileOutputStream(path)) {
            output.write(certificate.getEncoded());
        }
    }
}
