//! The visitor's country from a MaxMind-format database (GeoLite2-Country or -City, or any
//! database with `country.iso_code`), read once at start from the configured path.

use std::net::IpAddr;
use std::path::Path;

pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

#[derive(serde::Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    country: Option<Country<'a>>,
    #[serde(borrow, default)]
    registered_country: Option<Country<'a>>,
}

#[derive(serde::Deserialize)]
struct Country<'a> {
    #[serde(default)]
    iso_code: Option<&'a str>,
}

impl GeoIp {
    pub fn open(path: &Path) -> anyhow::Result<GeoIp> {
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| anyhow::anyhow!("cannot read the GeoIP database {}: {e}", path.display()))?;
        Ok(GeoIp { reader })
    }

    /// ISO 3166-1 alpha-2 code, upper case; None when the address is not in the database.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        let found = self.reader.lookup(ip).ok()?;
        let rec: Record<'_> = found.decode().ok()??;
        let code = rec.country.and_then(|c| c.iso_code).or(rec.registered_country.and_then(|c| c.iso_code))?;
        let code = code.trim().to_ascii_uppercase();
        (code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())).then_some(code)
    }
}
