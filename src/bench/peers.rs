//! Registering private gateways over PoWeb and preparing what they and Internet endpoints send:
//! the same steps a real private gateway takes, with the Rust protocol core.

use anyhow::{bail, Context};
use chrono::{Duration, Utc};

use awala_gateway::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey};
use awala_gateway::protocols::awala::messages::{
    PrivateNodeRegistration, PrivateNodeRegistrationRequest, Recipient,
};
use awala_gateway::protocols::awala::pki::{
    issue_delivery_authorization, issue_endpoint_certificate, Certificate,
};
use awala_gateway::protocols::awala::ramf::{MessageDraft, Parcel};

/// Identity keys of the benchmark: 2048-bit, as real peers use.
const KEY_BITS: u32 = 2048;
/// Parcel TTL: long enough for any benchmark run.
const PARCEL_TTL_SECONDS: u32 = 24 * 3600;

/// A registered private gateway with one private endpoint behind it, and the PDA that endpoint
/// granted to the benchmark's Internet endpoint.
pub struct PrivateGateway {
    pub key: IdentityPrivateKey,
    pub certificate: Certificate,
    pub endpoint_certificate: Certificate,
    pub pda: Certificate,
}

/// Registers one private gateway (pre-registration, then registration) at `poweb_url`.
pub async fn register(
    client: &reqwest::Client,
    poweb_url: &str,
    internet_endpoint_key: &IdentityPrivateKey,
) -> anyhow::Result<PrivateGateway> {
    let key = IdentityPrivateKey::generate(KEY_BITS)?;
    let digest = hex::encode(key.public_key().digest());
    let pnra = post(
        client,
        &format!("{poweb_url}/v1/pre-registrations"),
        "text/plain",
        digest.into_bytes(),
    )
    .await
    .context("pre-registration")?;
    let pnrr = PrivateNodeRegistrationRequest {
        private_node_public_key: key.public_key(),
        pnra_serialized: pnra,
    }
    .sign(&key)?;
    let pnr = post(
        client,
        &format!("{poweb_url}/v1/nodes"),
        "application/vnd.awala.node-registration.request",
        pnrr,
    )
    .await
    .context("registration")?;
    let registration = PrivateNodeRegistration::decode(&pnr)?;
    let certificate = Certificate::from_der(&registration.private_node_certificate_der)?;
    let now = Utc::now();
    let endpoint_key = IdentityPrivateKey::generate(KEY_BITS)?;
    let endpoint_certificate = issue_endpoint_certificate(
        &endpoint_key.public_key(),
        &key,
        Some(&certificate),
        now - Duration::hours(1),
        certificate.not_after(),
    )?;
    let pda = issue_delivery_authorization(
        &internet_endpoint_key.public_key(),
        &endpoint_key,
        &endpoint_certificate,
        now - Duration::hours(1),
        endpoint_certificate.not_after(),
    )?;
    Ok(PrivateGateway {
        key,
        certificate,
        endpoint_certificate,
        pda,
    })
}

impl PrivateGateway {
    /// A parcel from the Internet endpoint to this gateway's endpoint, as PoHTTP carries it.
    pub fn parcel(
        &self,
        internet_endpoint_key: &IdentityPrivateKey,
        payload: Vec<u8>,
    ) -> anyhow::Result<Vec<u8>> {
        let draft = MessageDraft::new(
            Recipient {
                id: self.endpoint_certificate.subject_id().to_owned(),
                internet_address: None,
            },
            payload,
            Utc::now() - Duration::minutes(5),
            PARCEL_TTL_SECONDS,
        );
        Ok(Parcel::serialize(
            &draft,
            internet_endpoint_key,
            &self.pda,
            &[self.endpoint_certificate.clone(), self.certificate.clone()],
            HashAlgorithm::Sha256,
        )?)
    }
}

/// Most retries of a registration request the gateway asked us to repeat later.
const MAX_RETRIES: u32 = 120;

/// Posts `body`, waiting out 429 and 503 answers as their `Retry-After` asks: registrations from
/// one address are rate limited, and the generator registers many gateways from one.
async fn post(
    client: &reqwest::Client,
    url: &str,
    content_type: &str,
    body: Vec<u8>,
) -> anyhow::Result<Vec<u8>> {
    let mut retries = 0;
    loop {
        let response = client
            .post(url)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await?;
        let status = response.status();
        let retry_after_opt = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        let answer = response.bytes().await?;
        match (status.as_u16(), retry_after_opt) {
            (200, _) => return Ok(answer.to_vec()),
            (429 | 503, Some(seconds)) if retries < MAX_RETRIES => {
                retries += 1;
                tokio::time::sleep(std::time::Duration::from_secs(seconds.clamp(1, 60))).await;
            }
            _ => bail!(
                "{url} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
}
