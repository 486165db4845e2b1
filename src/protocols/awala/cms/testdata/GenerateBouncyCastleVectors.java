// Regenerates the Bouncy Castle vectors in this directory, with the settings awala-jvm uses
// (notes §3.1, §3.4). Run from this directory:
//   java -cp /usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar \
//     GenerateBouncyCastleVectors.java
import java.io.FileOutputStream;
import java.math.BigInteger;
import java.security.*;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;

import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.*;
import org.bouncycastle.cms.jcajce.*;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

public class GenerateBouncyCastleVectors {
    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        byte[] plaintext = new byte[2500];
        for (int i = 0; i < plaintext.length; i++) plaintext[i] = (byte) i;
        write("plaintext.bin", plaintext);

        // SignedData: RSA-PSS SHA-256, encapsulated content, BC's default signed attributes.
        KeyPairGenerator rsaGenerator = KeyPairGenerator.getInstance("RSA");
        rsaGenerator.initialize(2048);
        KeyPair rsa = rsaGenerator.generateKeyPair();
        X500Name name = new X500Name("CN=bouncy-castle-signer");
        ContentSigner certificateSigner =
            new JcaContentSignerBuilder("SHA256WITHRSAANDMGF1").build(rsa.getPrivate());
        X509CertificateHolder certificate = new JcaX509v3CertificateBuilder(
            name, BigInteger.valueOf(42), new Date(), new Date(System.currentTimeMillis() + 86400000L),
            name, rsa.getPublic()).build(certificateSigner);
        write("bc-signer-certificate.der", certificate.getEncoded());
        CMSSignedDataGenerator signedGenerator = new CMSSignedDataGenerator();
        ContentSigner signer = new JcaContentSignerBuilder("SHA256WITHRSAANDMGF1").build(rsa.getPrivate());
        signedGenerator.addSignerInfoGenerator(
            new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build())
                .build(signer, certificate));
        signedGenerator.addCertificate(certificate);
        CMSSignedData signed = signedGenerator.generate(new CMSProcessableByteArray(plaintext), true);
        write("bc-signed-data.ber", signed.getEncoded());

        // EnvelopedData: ECDH P-256, sha256 KDF, AES-128 wrap, AES-128-CBC, 64-byte UKM, rKeyId.
        KeyPairGenerator ecGenerator = KeyPairGenerator.getInstance("EC", "BC");
        ecGenerator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair recipient = ecGenerator.generateKeyPair();
        KeyPair originator = ecGenerator.generateKeyPair();
        write("bc-recipient-key.pk8", recipient.getPrivate().getEncoded());
        byte[] recipientKeyId = new byte[] {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] originatorKeyId = new byte[] {8, 7, 6, 5, 4, 3, 2, 1};
        byte[] ukm = new byte[64];
        new SecureRandom().nextBytes(ukm);
        JceKeyAgreeRecipientInfoGenerator recipientGenerator = new JceKeyAgreeRecipientInfoGenerator(
            CMSAlgorithm.ECDH_SHA256KDF, originator.getPrivate(), originator.getPublic(),
            CMSAlgorithm.AES128_WRAP);
        recipientGenerator.setUserKeyingMaterial(ukm);
        recipientGenerator.addRecipient(recipientKeyId, recipient.getPublic());
        recipientGenerator.setProvider("BC");
        CMSEnvelopedDataGenerator envelopeGenerator = new CMSEnvelopedDataGenerator();
        envelopeGenerator.addRecipientInfoGenerator(recipientGenerator);
        ASN1EncodableVector attributes = new ASN1EncodableVector();
        attributes.add(new Attribute(new ASN1ObjectIdentifier("1.3.6.1.4.1.58708.0.1.0"),
            new DERSet(new DEROctetString(originatorKeyId))));
        envelopeGenerator.setUnprotectedAttributeGenerator(
            new SimpleAttributeTableGenerator(new AttributeTable(attributes)));
        CMSEnvelopedData envelope = envelopeGenerator.generate(
            new CMSProcessableByteArray(plaintext),
            new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES128_CBC).setProvider("BC").build());
        write("bc-envelope.ber", envelope.getEncoded());
    }

    private static void write(String path, byte[] data) throws Exception {
        try (FileOutputStream out = new FileOutputStream(path)) {
            out.write(data);
        }
    }
}
