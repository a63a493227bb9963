//! FHIR R4 (UK Core) resources → contract rows. One function per resource
//! type; each either appends rows to the column buffers or says why the
//! resource gives none (`Issue`). `docs/fhir.md` is the prose form of this
//! file: every system, extension and code it knows is listed there.

use std::collections::{HashMap, HashSet};

use super::resource::{self, CodeableConcept, Period, Str};
use crate::contract;

pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
pub const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
pub const ETHNIC_CATEGORY_URL: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory";
pub const ETHNIC_CATEGORY_ENGLAND: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland";
pub const ADMISSION_METHOD_URL: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod";
pub const ADMISSION_METHOD_ENGLAND: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland";
pub const SNOMED: &str = "http://snomed.info/sct";
pub const DMD: &str = "https://dmd.nhs.uk";
pub const ICD10_WHO: &str = "http://hl7.org/fhir/sid/icd-10";
/// The NHS ICD-10 (5th edition) system, as the NHS terminology server names it.
pub const ICD10_UK: &str = "http://hl7.org/fhir/sid/icd-10-uk";
pub const LOINC: &str = "http://loinc.org";
pub const ACT_PRIORITY: &str = "http://terminology.hl7.org/CodeSystem/v3-ActPriority";
pub const ADMIT_SOURCE: &str = "http://terminology.hl7.org/CodeSystem/admit-source";
pub const CONDITION_VER_STATUS: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
/// SNOMED CT 394814009 |General practice (specialty)|: an ambulatory
/// encounter with this type or service type is a GP contact.
pub const SNOMED_GENERAL_PRACTICE: &str = "394814009";
/// SNOMED CT 394587001 |Psychiatry (specialty)|: a non-inpatient encounter
/// with this type or service type is a mental-health contact.
pub const SNOMED_PSYCHIATRY: &str = "394587001";

/// NHS Data Dictionary ADMISSION METHOD codes that are emergency admissions.
pub const EMERGENCY_ADMISSION_METHODS: &[&str] =
    &["21", "22", "23", "24", "25", "2A", "2B", "2C", "2D", "28"];
/// The other ADMISSION METHOD codes: elective, maternity, other.
pub const OTHER_ADMISSION_METHODS: &[&str] = &["11", "12", "13", "31", "32", "81", "82", "83"];

/// The FHIR resource types strata maps (everything else is skipped and counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Organization,
    Patient,
    Encounter,
    Condition,
    MedicationRequest,
    MedicationStatement,
    MedicationDispense,
    Observation,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Organization,
        Kind::Patient,
        Kind::Encounter,
        Kind::Condition,
        Kind::MedicationRequest,
        Kind::MedicationStatement,
        Kind::MedicationDispense,
        Kind::Observation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Organization => "Organization",
            Kind::Patient => "Patient",
            Kind::Encounter => "Encounter",
            Kind::Condition => "Condition",
            Kind::MedicationRequest => "MedicationRequest",
            Kind::MedicationStatement => "MedicationStatement",
            Kind::MedicationDispense => "MedicationDispense",
            Kind::Observation => "Observation",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Whether a resource that gives no row is bad input or left out by a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueKind {
    /// Bad input (malformed line, missing required element, unparseable
    /// date, dangling reference): counts towards the rejection limit.
    Rejected,
    /// Left out by a documented rule (entered-in-error, refuted, a code
    /// system the contract does not hold).
    Dropped,
}

/// Why a resource gives no row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issue {
    pub kind: IssueKind,
    pub reason: &'static str,
}

const fn rejected(reason: &'static str) -> Issue {
    Issue {
        kind: IssueKind::Rejected,
        reason,
    }
}

const fn dropped(reason: &'static str) -> Issue {
    Issue {
        kind: IssueKind::Dropped,
        reason,
    }
}

/// User-supplied lookups (none is guessed when absent).
#[derive(Debug, Default)]
pub struct Lookups {
    /// Postcode (upper case, no spaces) → LSOA 2021 code.
    pub postcode_lsoa: Option<HashMap<String, String>>,
    /// Practice ODS code → PCN code.
    pub practice_pcn: Option<HashMap<String, String>>,
    /// dm+d code → BNF presentation code.
    pub dmd_bnf: Option<HashMap<String, String>>,
    /// Opt-outs (national, type 1) by person id or NHS number.
    pub opt_outs: Option<OptOuts>,
}

/// A user-supplied opt-out list: people are found by the key it names.
#[derive(Debug, Default)]
pub struct OptOuts {
    /// True: keyed by NHS number; false: by person id (the Patient's id).
    pub by_nhs_number: bool,
    /// Key → (National Data Opt-out, Type 1 objection).
    pub people: HashMap<String, (bool, bool)>,
}

/// What mapping a resource may consult: lookups, the export's Organizations
/// (id → ODS code) and, once the Patients are read, their ids.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub lookups: &'a Lookups,
    pub organizations: &'a HashMap<String, String>,
    pub patients: Option<&'a HashSet<String>>,
}

/// `patients` column buffers (dates as days since 1970-01-01).
#[derive(Debug, Default)]
pub struct PatientRows {
    pub person_id: Vec<String>,
    pub nhs_number: Vec<Option<String>>,
    pub date_of_birth: Vec<i32>,
    pub sex: Vec<&'static str>,
    pub ethnicity: Vec<Option<&'static str>>,
    pub lsoa: Vec<Option<String>>,
    pub practice_code: Vec<String>,
    pub pcn_code: Vec<Option<String>>,
    pub date_of_death: Vec<Option<i32>>,
    pub opt_out_national: Vec<bool>,
    pub opt_out_type1: Vec<bool>,
}

#[derive(Debug, Default)]
pub struct EncounterRows {
    pub person_id: Vec<String>,
    pub encounter_id: Vec<String>,
    pub setting: Vec<&'static str>,
    pub start_date: Vec<i32>,
    pub end_date: Vec<Option<i32>>,
    pub emergency: Vec<bool>,
}

/// `diagnoses` and `observations` share their coded columns.
#[derive(Debug, Default)]
pub struct CodedRows {
    pub person_id: Vec<String>,
    pub date: Vec<i32>,
    pub code_system: Vec<&'static str>,
    pub code: Vec<String>,
    /// diagnoses only
    pub encounter_id: Vec<Option<String>>,
    /// observations only
    pub value: Vec<Option<f64>>,
    /// observations only
    pub unit: Vec<Option<String>>,
}

#[derive(Debug, Default)]
pub struct MedicationRows {
    pub person_id: Vec<String>,
    pub date: Vec<i32>,
    /// Through the dm+d → BNF map, when given and the code is in it.
    pub bnf_code: Vec<Option<String>>,
    /// Always `dmd`: the code as the export holds it.
    pub code_system: Vec<&'static str>,
    pub code: Vec<String>,
}

/// Contract rows of one chunk of resources.
#[derive(Debug, Default)]
pub struct Rows {
    pub patients: PatientRows,
    pub encounters: EncounterRows,
    pub diagnoses: CodedRows,
    pub medications: MedicationRows,
    pub observations: CodedRows,
}

/// A FHIR date or dateTime as days since 1970-01-01: the calendar date as
/// written (`YYYY-MM-DD`, or the date part of a dateTime, in its own time
/// zone). Partial dates (`YYYY`, `YYYY-MM`) are not dates to the contract.
pub fn fhir_date(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.len() < 10 || (s.len() > 10 && s.as_bytes()[10] != b'T') {
        return None;
    }
    let d = chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    Some(contract::epoch_days(d))
}

/// An optional date element: absent is fine, present must parse.
fn optional_date(s: Option<&Str<'_>>, bad: &'static str) -> Result<Option<i32>, Issue> {
    match s {
        None => Ok(None),
        Some(s) => fhir_date(s).map(Some).ok_or(rejected(bad)),
    }
}

fn period_start<'s, 'a>(p: Option<&'s Period<'a>>) -> Option<&'s Str<'a>> {
    p.and_then(|p| p.start.as_ref())
}

fn parse<'a, T: serde::Deserialize<'a>>(line: &'a [u8], kind: Kind) -> Result<T, Issue> {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(borrow, rename = "resourceType")]
        resource_type: Option<Str<'a>>,
    }
    match serde_json::from_slice::<T>(line) {
        Ok(v) => Ok(v),
        Err(_) => {
            // Tell a line of another type from one that is not valid JSON.
            match serde_json::from_slice::<Head<'_>>(line) {
                Ok(h) if h.resource_type.as_deref() != Some(kind.name()) => {
                    Err(rejected("resourceType differs from the file's type"))
                }
                Ok(_) => Err(rejected("an element has the wrong JSON type")),
                Err(_) => Err(rejected("malformed JSON line")),
            }
        }
    }
}

fn check_type(found: Option<&Str<'_>>, kind: Kind) -> Result<(), Issue> {
    match found {
        Some(t) if &**t == kind.name() => Ok(()),
        Some(_) => Err(rejected("resourceType differs from the file's type")),
        None => Err(rejected("missing resourceType")),
    }
}

/// The person a clinical resource belongs to: `subject` must reference a
/// Patient, and (once Patients are read) one in the export.
fn subject(r: Option<&resource::Reference<'_>>, ctx: &Context<'_>) -> Result<String, Issue> {
    let id = r
        .and_then(|r| r.id_of("Patient"))
        .ok_or(rejected("subject is not a Patient reference"))?;
    if let Some(people) = ctx.patients
        && !people.contains(id)
    {
        return Err(rejected("subject references a Patient not in the export"));
    }
    Ok(id.to_string())
}

/// Reads an Organization: its id and ODS code, when it has both.
pub fn organization(line: &[u8]) -> Result<Option<(String, String)>, Issue> {
    let o: resource::Organization<'_> = parse(line, Kind::Organization)?;
    check_type(o.resource_type.as_ref(), Kind::Organization)?;
    Ok(o.id.as_deref().and_then(|id| {
        resource::identifier_in(&o.identifier, ODS_SYSTEM)
            .map(|ods| (id.to_string(), ods.to_string()))
    }))
}

/// Maps one resource line of `kind` (not Organization) into `rows`.
pub fn map_line(kind: Kind, line: &[u8], ctx: &Context<'_>, rows: &mut Rows) -> Result<(), Issue> {
    match kind {
        Kind::Organization => organization(line).map(|_| ()),
        Kind::Patient => patient(line, ctx, &mut rows.patients),
        Kind::Encounter => encounter(line, ctx, &mut rows.encounters),
        Kind::Condition => condition(line, ctx, &mut rows.diagnoses),
        Kind::MedicationRequest | Kind::MedicationStatement | Kind::MedicationDispense => {
            medication(kind, line, ctx, &mut rows.medications)
        }
        Kind::Observation => observation(line, ctx, &mut rows.observations),
    }
}

/// FHIR administrative gender → contract sex (absent → `U`).
pub fn sex(gender: Option<&str>) -> Option<&'static str> {
    match gender {
        Some("male") => Some("M"),
        Some("female") => Some("F"),
        Some("other") => Some("I"),
        Some("unknown") | None => Some("U"),
        Some(_) => None,
    }
}

/// UK Core ethnic category (England) → contract code: `A`–`S` and `Z` as
/// they are, `99` (not known) → `Z` (the contract has one "not stated" code);
/// any other system or code → none.
pub fn ethnicity(cc: Option<&CodeableConcept<'_>>) -> Option<&'static str> {
    let code = cc?.code_in(ETHNIC_CATEGORY_ENGLAND)?;
    if code == "99" {
        return Some("Z");
    }
    contract::ETHNICITY_CODES
        .iter()
        .copied()
        .find(|c| *c == code)
}

/// A postcode as the lookup keys it: upper case, no spaces.
pub fn postcode_key(p: &str) -> String {
    p.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

fn patient(line: &[u8], ctx: &Context<'_>, out: &mut PatientRows) -> Result<(), Issue> {
    let p: resource::Patient<'_> = parse(line, Kind::Patient)?;
    check_type(p.resource_type.as_ref(), Kind::Patient)?;
    let id =
        p.id.as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(rejected("missing id"))?;
    let birth = p
        .birth_date
        .as_ref()
        .ok_or(rejected("missing birthDate"))
        .and_then(|d| fhir_date(d).ok_or(rejected("birthDate is not a full date")))?;
    let sex =
        sex(p.gender.as_deref()).ok_or(rejected("gender is not male, female, other or unknown"))?;
    let death = optional_date(
        p.deceased_date_time.as_ref(),
        "deceasedDateTime is not a date",
    )?;
    if death.is_none() && p.deceased_boolean == Some(true) {
        return Err(rejected("deceasedBoolean true without a date of death"));
    }
    let mut dangling = false;
    let mut practice = None;
    for gp in &p.general_practitioner {
        if let Some(ident) = &gp.identifier
            && ident.system.as_deref() == Some(ODS_SYSTEM)
            && let Some(v) = ident.value.as_deref()
        {
            practice = Some(v.to_string());
            break;
        }
        if let Some(org) = gp.id_of("Organization") {
            match ctx.organizations.get(org) {
                Some(ods) => {
                    practice = Some(ods.clone());
                    break;
                }
                None => dangling = true,
            }
        }
    }
    let practice = practice.ok_or(if dangling {
        rejected("generalPractitioner references an Organization not in the export (or without an ODS code)")
    } else {
        rejected("no generalPractitioner with an ODS code")
    })?;
    let ethnicity = ethnicity(
        resource::extension(&p.extension, ETHNIC_CATEGORY_URL)
            .and_then(|e| e.value_codeable_concept.as_ref()),
    );
    let lsoa = ctx.lookups.postcode_lsoa.as_ref().and_then(|map| {
        // The home address first, then any address with a postcode.
        let home = p
            .address
            .iter()
            .find(|a| a.use_.as_deref() == Some("home") && a.postal_code.is_some());
        let any = p.address.iter().find(|a| a.postal_code.is_some());
        let postcode = home.or(any)?.postal_code.as_deref()?;
        map.get(&postcode_key(postcode)).cloned()
    });
    let pcn = ctx
        .lookups
        .practice_pcn
        .as_ref()
        .and_then(|m| m.get(&practice).cloned());
    let nhs_number = resource::identifier_in(&p.identifier, NHS_NUMBER_SYSTEM);
    let (national, type1) = ctx
        .lookups
        .opt_outs
        .as_ref()
        .and_then(|o| {
            let key = if o.by_nhs_number {
                crate::contract::normalise_nhs_number(nhs_number?)
            } else {
                id.into()
            };
            o.people.get(key.as_ref()).copied()
        })
        .unwrap_or((false, false));
    out.opt_out_national.push(national);
    out.opt_out_type1.push(type1);
    out.person_id.push(id.to_string());
    out.nhs_number.push(nhs_number.map(str::to_string));
    out.date_of_birth.push(birth);
    out.sex.push(sex);
    out.ethnicity.push(ethnicity);
    out.lsoa.push(lsoa);
    out.practice_code.push(practice);
    out.pcn_code.push(pcn);
    out.date_of_death.push(death);
    Ok(())
}

/// The specialty an encounter's type or service type names, when it
/// changes the setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Specialty {
    GeneralPractice,
    Psychiatry,
    Other,
}

/// Encounter.class (v3 ActCode) → setting; `None` for a class strata does not map.
pub fn setting(class: &str, specialty: Specialty) -> Option<&'static str> {
    let general_practice = specialty == Specialty::GeneralPractice;
    match class {
        "IMP" | "ACUTE" | "NONAC" | "SS" => Some("inpatient"),
        "EMER" => Some("emergency_department"),
        "AMB" | "HH" | "FLD" | "VR" if specialty == Specialty::Psychiatry => Some("mental_health"),
        "AMB" if general_practice => Some("gp"),
        "AMB" => Some("outpatient"),
        "HH" | "FLD" => Some("community"),
        "VR" => Some("gp"),
        _ => None,
    }
}

/// Whether an encounter is an emergency: the UK Core admission method when
/// it carries a known code; else priority `EM`, admit source `emd` or class
/// `EMER`.
fn emergency(e: &resource::Encounter<'_>, class: &str) -> bool {
    let method = e.hospitalization.as_ref().and_then(|h| {
        resource::extension(&h.extension, ADMISSION_METHOD_URL)
            .and_then(|x| x.value_codeable_concept.as_ref())
            .and_then(|cc| cc.code_in(ADMISSION_METHOD_ENGLAND))
    });
    if let Some(m) = method {
        if EMERGENCY_ADMISSION_METHODS.contains(&m) {
            return true;
        }
        if OTHER_ADMISSION_METHODS.contains(&m) {
            return false;
        }
    }
    let priority = e.priority.as_ref().and_then(|p| p.code_in(ACT_PRIORITY)) == Some("EM");
    let from_ed = e
        .hospitalization
        .as_ref()
        .and_then(|h| h.admit_source.as_ref())
        .and_then(|s| s.code_in(ADMIT_SOURCE))
        == Some("emd");
    priority || from_ed || class == "EMER"
}

fn encounter(line: &[u8], ctx: &Context<'_>, out: &mut EncounterRows) -> Result<(), Issue> {
    let e: resource::Encounter<'_> = parse(line, Kind::Encounter)?;
    check_type(e.resource_type.as_ref(), Kind::Encounter)?;
    match e.status.as_deref() {
        Some("entered-in-error") => return Err(dropped("status entered-in-error")),
        Some("cancelled") => return Err(dropped("status cancelled")),
        Some("planned") => return Err(dropped("status planned (has not happened)")),
        _ => {}
    }
    let id =
        e.id.as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(rejected("missing id"))?;
    let person = subject(e.subject.as_ref(), ctx)?;
    let class = e
        .class
        .as_ref()
        .and_then(|c| c.code.as_deref())
        .ok_or(rejected("missing class"))?;
    let named = |code: &str| {
        e.type_
            .iter()
            .chain(e.service_type.as_ref())
            .any(|cc| cc.code_in(SNOMED) == Some(code))
    };
    let specialty = if named(SNOMED_PSYCHIATRY) {
        Specialty::Psychiatry
    } else if named(SNOMED_GENERAL_PRACTICE) {
        Specialty::GeneralPractice
    } else {
        Specialty::Other
    };
    let setting = setting(class, specialty).ok_or(dropped("class not mapped to a setting"))?;
    let start = period_start(e.period.as_ref())
        .ok_or(rejected("missing period.start"))
        .and_then(|d| fhir_date(d).ok_or(rejected("period.start is not a date")))?;
    let end = optional_date(
        e.period.as_ref().and_then(|p| p.end.as_ref()),
        "period.end is not a date",
    )?;
    out.person_id.push(person);
    out.encounter_id.push(id.to_string());
    out.setting.push(setting);
    out.start_date.push(start);
    out.end_date.push(end);
    out.emergency.push(emergency(&e, class));
    Ok(())
}

/// A diagnosis coding → contract code system.
pub fn diagnosis_system(system: &str) -> Option<&'static str> {
    match system {
        SNOMED => Some("snomed"),
        ICD10_WHO | ICD10_UK => Some("icd10"),
        _ => None,
    }
}

fn condition(line: &[u8], ctx: &Context<'_>, out: &mut CodedRows) -> Result<(), Issue> {
    let c: resource::Condition<'_> = parse(line, Kind::Condition)?;
    check_type(c.resource_type.as_ref(), Kind::Condition)?;
    match c
        .verification_status
        .as_ref()
        .and_then(|v| v.code_in(CONDITION_VER_STATUS))
    {
        Some("entered-in-error") => return Err(dropped("verificationStatus entered-in-error")),
        Some("refuted") => return Err(dropped("verificationStatus refuted")),
        _ => {}
    }
    let person = subject(c.subject.as_ref(), ctx)?;
    let date = c
        .onset_date_time
        .as_ref()
        .or(period_start(c.onset_period.as_ref()))
        .or(c.recorded_date.as_ref())
        .ok_or(rejected(
            "no onsetDateTime, onsetPeriod.start or recordedDate",
        ))
        .and_then(|d| fhir_date(d).ok_or(rejected("onset or recordedDate is not a date")))?;
    let encounter = c
        .encounter
        .as_ref()
        .and_then(|r| r.id_of("Encounter"))
        .map(str::to_string);
    let mut any = false;
    for coding in c.code.iter().flat_map(|cc| &cc.coding) {
        let (Some(system), Some(code)) = (coding.system.as_deref(), coding.code.as_deref()) else {
            continue;
        };
        let Some(system) = diagnosis_system(system) else {
            continue;
        };
        out.person_id.push(person.clone());
        out.date.push(date);
        out.code_system.push(system);
        out.code.push(code.to_string());
        out.encounter_id.push(encounter.clone());
        any = true;
    }
    if any {
        Ok(())
    } else {
        Err(dropped("no SNOMED CT or ICD-10 coding"))
    }
}

fn medication(
    kind: Kind,
    line: &[u8],
    ctx: &Context<'_>,
    out: &mut MedicationRows,
) -> Result<(), Issue> {
    let m: resource::Medication<'_> = parse(line, kind)?;
    check_type(m.resource_type.as_ref(), kind)?;
    match m.status.as_deref() {
        Some("entered-in-error") => return Err(dropped("status entered-in-error")),
        Some("cancelled") => return Err(dropped("status cancelled")),
        Some("draft") => return Err(dropped("status draft")),
        Some("declined") => return Err(dropped("status declined")),
        _ => {}
    }
    let person = subject(m.subject.as_ref(), ctx)?;
    let (date, element) = match kind {
        Kind::MedicationRequest => (m.authored_on.as_ref(), "authoredOn"),
        Kind::MedicationStatement => (
            m.effective_date_time
                .as_ref()
                .or(period_start(m.effective_period.as_ref()))
                .or(m.date_asserted.as_ref()),
            "effective[x] or dateAsserted",
        ),
        _ => (m.when_handed_over.as_ref(), "whenHandedOver"),
    };
    let date = date.ok_or(rejected(match element {
        "authoredOn" => "missing authoredOn",
        "whenHandedOver" => "missing whenHandedOver",
        _ => "missing effective[x] and dateAsserted",
    }))?;
    let date = fhir_date(date).ok_or(rejected("medication date is not a date"))?;
    let cc = m.medication_codeable_concept.as_ref().ok_or(dropped(
        "no medicationCodeableConcept (Medication resources are not read)",
    ))?;
    let dmd = cc
        .code_in(DMD)
        .or_else(|| cc.code_in(SNOMED))
        .ok_or(dropped("no dm+d coding"))?;
    // The dm+d code is kept (contract `code_system` dmd); the BNF code is
    // added when the user's map has it, so polypharmacy can count the
    // chemical substance (contract::ingredient_key).
    let bnf = ctx.lookups.dmd_bnf.as_ref().and_then(|m| m.get(dmd));
    out.person_id.push(person);
    out.date.push(date);
    out.bnf_code.push(bnf.cloned());
    out.code_system.push("dmd");
    out.code.push(dmd.to_string());
    Ok(())
}

fn observation(line: &[u8], ctx: &Context<'_>, out: &mut CodedRows) -> Result<(), Issue> {
    let o: resource::Observation<'_> = parse(line, Kind::Observation)?;
    check_type(o.resource_type.as_ref(), Kind::Observation)?;
    match o.status.as_deref() {
        Some("entered-in-error") => return Err(dropped("status entered-in-error")),
        Some("cancelled") => return Err(dropped("status cancelled")),
        _ => {}
    }
    let person = subject(o.subject.as_ref(), ctx)?;
    let date = o
        .effective_date_time
        .as_ref()
        .or(period_start(o.effective_period.as_ref()))
        .or(o.effective_instant.as_ref())
        .ok_or(rejected("no effective[x] date"))
        .and_then(|d| fhir_date(d).ok_or(rejected("effective[x] is not a date")))?;
    let code = o.code.as_ref();
    let snomed = code.and_then(|cc| cc.code_in(SNOMED));
    let code = match snomed {
        Some(c) => c,
        None if code.and_then(|cc| cc.code_in(LOINC)).is_some() => {
            return Err(dropped(
                "LOINC code only (the contract holds SNOMED CT and ICD-10)",
            ));
        }
        None => return Err(dropped("no SNOMED CT coding")),
    };
    let q = o.value_quantity.as_ref();
    out.person_id.push(person);
    out.date.push(date);
    out.code_system.push("snomed");
    out.code.push(code.to_string());
    out.encounter_id.push(None);
    out.value.push(q.and_then(|q| q.value));
    out.unit.push(
        q.and_then(|q| q.unit.as_deref().or(q.code.as_deref()))
            .map(str::to_string),
    );
    Ok(())
}
