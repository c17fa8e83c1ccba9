//! Open Referral HSDS import: the HSDS 3 JSON "service with organization"
//! shape (one service, an array of them, or a page with `contents`), and the
//! HSDS CSV package (`organizations.csv` and `services.csv`, with
//! `phones.csv`, `languages.csv`, `attributes.csv` and `taxonomy_terms.csv`
//! used when present). Each service is upserted by its HSDS id, so a
//! re-import updates instead of duplicating; a row that cannot be read is
//! reported by file and line (never with its values) and the rest still load.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::services::{self, Imported, NewService};
use crate::{
    access::Actor,
    audit::RequestMeta,
    domain::{Need, ServiceStatus},
    error::{ServiceError, ServiceResult},
    state::AppState,
};

/// One row that did not load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.message)
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub created: usize,
    pub updated: usize,
    pub errors: Vec<RowError>,
}

/// A service as read from a file, before its fields are checked.
#[derive(Debug, Default)]
struct Row {
    file: String,
    line: u64,
    hsds_id: String,
    organization_name: String,
    name: String,
    categories: Vec<String>,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    eligibility: Option<String>,
    languages: Vec<String>,
    status: Option<String>,
}

/// Imports `path` at the console: a `.json` file, or a CSV package (its
/// directory, or any file in it).
pub async fn import(state: &AppState, path: &Path) -> anyhow::Result<Report> {
    let rows = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let file = display_name(path);
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{file}: cannot read: {e}"))?;
        read_json(&file, &text)?
    } else {
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        read_csv_package(&Files::Dir(dir))?
    };
    load(state, None, &RequestMeta::default(), rows)
        .await
        .map_err(|e| anyhow::anyhow!("import stopped: {e:?}"))
}

/// Imports files sent through the API by an admin (`POST
/// /v1/services/import`): one `.json` file, or the CSV files of a package by
/// their names. The role is decided before any file is read; each entry is
/// audited as the admin's create or update.
pub async fn import_uploaded(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    files: Vec<(String, String)>,
) -> ServiceResult<Report> {
    services::require_manage(state, actor, meta).await?;
    let (read, file) = match files.as_slice() {
        [(name, text)] if name.to_lowercase().ends_with(".json") => {
            (read_json(name, text), name.clone())
        }
        _ => {
            let by_name: HashMap<String, String> = files
                .into_iter()
                .map(|(name, text)| (name.to_lowercase(), text))
                .collect();
            (
                read_csv_package(&Files::Uploaded(&by_name)),
                "services.csv".to_owned(),
            )
        }
    };
    match read {
        Ok(rows) => load(state, Some(actor), meta, rows).await,
        // Files that cannot be read at all load nothing; the report says why
        // (by file and line and the rule, never a value), as for a row.
        Err(e) => Ok(Report {
            errors: vec![RowError {
                file,
                line: 0,
                message: e.to_string(),
            }],
            ..Report::default()
        }),
    }
}

/// Upserts each readable row; a row that breaks a rule is reported, the
/// rest still load.
async fn load(
    state: &AppState,
    actor: Option<&Actor>,
    meta: &RequestMeta,
    rows: Vec<Row>,
) -> ServiceResult<Report> {
    let mut report = Report::default();
    for row in rows {
        let (file, line) = (row.file.clone(), row.line);
        let fail = |message: String| RowError {
            file: file.clone(),
            line,
            message,
        };
        let (hsds_id, input) = match checked(row) {
            Ok(v) => v,
            Err(message) => {
                report.errors.push(fail(message));
                continue;
            }
        };
        match services::upsert_imported(state, actor, meta, hsds_id, input).await {
            Ok(Imported::Created) => report.created += 1,
            Ok(Imported::Updated) => report.updated += 1,
            Err(ServiceError::Invalid(issues)) => {
                let text: Vec<String> = issues
                    .iter()
                    .map(|i| format!("{}: {}", i.field, i.message))
                    .collect();
                report.errors.push(fail(text.join("; ")));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// The row's fields under the directory's rules; the error names the field
/// and the rule, never the value.
fn checked(row: Row) -> Result<(String, NewService), String> {
    fn field<T>(name: &str, parsed: Result<T, String>) -> Result<T, String> {
        parsed.map_err(|m| format!("{name}: {m}"))
    }
    fn optional<T>(
        name: &str,
        value: Option<String>,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        value.map(|v| field(name, parse(&v))).transpose()
    }
    let hsds_id = row.hsds_id.trim().to_owned();
    if hsds_id.is_empty() || hsds_id.chars().count() > 200 {
        return Err("id: must have 1 to 200 characters".into());
    }
    let mut categories: Vec<Need> = row.categories.iter().filter_map(|c| need_of(c)).collect();
    if categories.is_empty() {
        categories.push(Need::Other);
    }
    let status = match row.status.as_deref().map(str::trim) {
        None | Some("") | Some("active") => ServiceStatus::Active,
        Some(_) => ServiceStatus::Inactive,
    };
    let languages = row
        .languages
        .iter()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .map(|l| field("languages", services::Language::parse(l)))
        .collect::<Result<Vec<_>, _>>()?;
    let input = NewService {
        id: None,
        organization_name: field(
            "organization name",
            services::Name::parse(&row.organization_name),
        )?,
        name: field("name", services::Name::parse(&row.name))?,
        categories,
        phone: optional("phone", row.phone, services::Phone::parse)?,
        email: optional("email", row.email, services::Email::parse)?,
        address: optional("address", row.address, services::Address::parse)?,
        eligibility: optional("eligibility", row.eligibility, services::Eligibility::parse)?,
        languages,
        status,
    };
    Ok((hsds_id, input))
}

/// A taxonomy term as a need, by code or name (`Mental Health` and
/// `mental_health` both count).
fn need_of(term: &str) -> Option<Need> {
    let key: String = term
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    Need::parse(&key)
}

// ---- JSON ------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonService {
    id: String,
    name: String,
    email: Option<String>,
    status: Option<String>,
    eligibility_description: Option<String>,
    organization: JsonOrganization,
    phones: Vec<JsonPhone>,
    languages: Vec<JsonLanguage>,
    attributes: Vec<JsonAttribute>,
    service_at_locations: Vec<JsonServiceAtLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonOrganization {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonPhone {
    number: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonLanguage {
    name: Option<String>,
    code: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonAttribute {
    taxonomy_term: JsonTerm,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonTerm {
    code: Option<String>,
    name: Option<String>,
    term: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonServiceAtLocation {
    location: JsonLocation,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonLocation {
    addresses: Vec<JsonAddress>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonAddress {
    address_1: String,
    city: String,
    state_province: String,
    postal_code: String,
}

fn read_json(file: &str, text: &str) -> anyhow::Result<Vec<Row>> {
    let file = file.to_owned();
    let items: Vec<&RawValue> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text)
    } else {
        #[derive(Deserialize)]
        struct Page<'a> {
            #[serde(borrow)]
            contents: Option<Vec<&'a RawValue>>,
        }
        match serde_json::from_str::<Page>(text) {
            Ok(Page {
                contents: Some(items),
            }) => Ok(items),
            Ok(_) => serde_json::from_str::<&RawValue>(text).map(|one| vec![one]),
            Err(e) => Err(e),
        }
    }
    .map_err(|e| anyhow::anyhow!("{file} line {}: not HSDS JSON", e.line()))?;
    Ok(items
        .into_iter()
        .map(|raw| {
            // The item's text is a slice of the file: its offset gives the line.
            let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            let line = text[..offset.min(text.len())].matches('\n').count() as u64 + 1;
            match serde_json::from_str::<JsonService>(raw.get()) {
                Ok(s) => json_row(s, &file, line),
                Err(_) => Row {
                    file: file.clone(),
                    line,
                    ..Row::default()
                },
            }
        })
        .collect())
}

fn json_row(s: JsonService, file: &str, line: u64) -> Row {
    let address = s
        .service_at_locations
        .iter()
        .flat_map(|sal| sal.location.addresses.first())
        .next()
        .map(|a| {
            let region = format!("{} {}", a.state_province, a.postal_code);
            [a.address_1.trim(), a.city.trim(), region.trim()]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        });
    Row {
        file: file.to_owned(),
        line,
        hsds_id: s.id,
        organization_name: s.organization.name,
        name: s.name,
        categories: s
            .attributes
            .into_iter()
            .flat_map(|a| {
                [
                    a.taxonomy_term.code,
                    a.taxonomy_term.term,
                    a.taxonomy_term.name,
                ]
            })
            .flatten()
            .collect(),
        phone: s.phones.into_iter().map(|p| p.number).next(),
        email: s.email,
        address,
        eligibility: s.eligibility_description,
        languages: s
            .languages
            .into_iter()
            .filter_map(|l| l.code.or(l.name))
            .collect(),
        status: s.status,
    }
}

// ---- CSV -------------------------------------------------------------------

/// The rows of one CSV file as header -> value maps, with their line.
type CsvRows = Vec<(u64, HashMap<String, String>)>;

/// Where a CSV package's files come from: a directory at the console, or
/// the files an admin uploaded, by name.
enum Files<'a> {
    Dir(PathBuf),
    Uploaded(&'a HashMap<String, String>),
}

impl Files<'_> {
    /// The text of one file of the package, or `None` when it is not there.
    fn text(&self, name: &str) -> anyhow::Result<Option<String>> {
        match self {
            Files::Dir(dir) => {
                let path = dir.join(name);
                if !path.exists() {
                    return Ok(None);
                }
                std::fs::read_to_string(&path)
                    .map(Some)
                    .map_err(|e| anyhow::anyhow!("{name}: cannot read: {e}"))
            }
            Files::Uploaded(files) => Ok(files.get(name).cloned()),
        }
    }
}

fn read_csv(files: &Files<'_>, file: &str) -> anyhow::Result<Option<CsvRows>> {
    let Some(text) = files.text(file)? else {
        return Ok(None);
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|_| anyhow::anyhow!("{file} line 1: no header row"))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            anyhow::anyhow!("{file} line {line}: not CSV")
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let map = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_owned))
            .collect();
        rows.push((line, map));
    }
    Ok(Some(rows))
}

fn read_csv_package(files: &Files<'_>) -> anyhow::Result<Vec<Row>> {
    let organizations = read_csv(files, "organizations.csv")?
        .ok_or_else(|| anyhow::anyhow!("organizations.csv is missing"))?;
    let services = read_csv(files, "services.csv")?
        .ok_or_else(|| anyhow::anyhow!("services.csv is missing"))?;
    let get = |m: &HashMap<String, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    let optional = |m: &HashMap<String, String>, k: &str| {
        m.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let org_names: HashMap<String, String> = organizations
        .iter()
        .map(|(_, m)| (get(m, "id"), get(m, "name")))
        .collect();
    let mut phones: HashMap<String, String> = HashMap::new();
    for (_, m) in read_csv(files, "phones.csv")?.unwrap_or_default() {
        phones
            .entry(get(&m, "service_id"))
            .or_insert(get(&m, "number"));
    }
    let mut languages: HashMap<String, Vec<String>> = HashMap::new();
    for (_, m) in read_csv(files, "languages.csv")?.unwrap_or_default() {
        if let Some(l) = optional(&m, "code").or_else(|| optional(&m, "name")) {
            languages.entry(get(&m, "service_id")).or_default().push(l);
        }
    }
    let terms: HashMap<String, Vec<String>> = read_csv(files, "taxonomy_terms.csv")?
        .unwrap_or_default()
        .into_iter()
        .map(|(_, m)| {
            let names = ["code", "name", "term"]
                .iter()
                .filter_map(|k| optional(&m, k))
                .collect();
            (get(&m, "id"), names)
        })
        .collect();
    let mut categories: HashMap<String, Vec<String>> = HashMap::new();
    for (_, m) in read_csv(files, "attributes.csv")?.unwrap_or_default() {
        if let Some(names) = terms.get(&get(&m, "taxonomy_term_id")) {
            categories
                .entry(get(&m, "link_id"))
                .or_default()
                .extend(names.iter().cloned());
        }
    }
    let file = "services.csv".to_owned();
    Ok(services
        .into_iter()
        .map(|(line, m)| {
            let id = get(&m, "id");
            Row {
                file: file.clone(),
                line,
                organization_name: org_names
                    .get(&get(&m, "organization_id"))
                    .cloned()
                    .unwrap_or_default(),
                name: get(&m, "name"),
                categories: categories.get(&id).cloned().unwrap_or_default(),
                phone: phones.get(&id).cloned(),
                email: optional(&m, "email"),
                address: None,
                eligibility: optional(&m, "eligibility_description"),
                languages: languages.get(&id).cloned().unwrap_or_default(),
                status: optional(&m, "status"),
                hsds_id: id,
            }
        })
        .collect())
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
